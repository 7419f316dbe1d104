// Package graph draws the call flow of a hotline script, so that the staff
// who wrote it can see where each node leads.
//
// Build extracts a format-neutral Graph from a loaded *dialog.Script; the
// Graph then renders itself as Mermaid (for Markdown and the admin page), as
// Graphviz DOT, or as a self-contained SVG that the package lays out itself
// (a layered, top-to-bottom layout in plain Go: see layout.go).
//
// Node names, intent names and prompts are written by staff and may contain
// anything (Chinese, quotes, brackets, emoji), so every label is escaped for
// the format it goes into, and the output is byte-identical for the same
// script.
//
// Three kinds of edges would otherwise be repeated from many nodes, so they
// are drawn once from a synthetic node instead: global intents and the
// script's default escalation from "any node" (ID "*"), answers of the answer
// library from "answers" (ID "$answers"). Calls outside business hours start
// at the synthetic "after hours" node (ID "$after_hours").
package graph
