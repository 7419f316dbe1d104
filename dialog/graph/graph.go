package graph

import (
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hotline-dev/hotline/dialog"
)

// Graph is the call flow of a script: its nodes, where they lead, and where
// calls start.
type Graph struct {
	Nodes []Node // the script's nodes in file order, then the synthetic ones used
	Edges []Edge // grouped by source node, in the order of Nodes
	Start string // ID of the node calls start at
}

// Node is one node of the flow: a node of the script, or a synthetic one.
type Node struct {
	ID     string // the script's node name; AnyNode, AnswersNode or AfterHoursNode for synthetic ones
	Label  string // what to show as the node's title
	Kind   string // one of the Kind* constants
	Prompt string // the node's first prompt text, shortened; "" when it says nothing
	Start  bool   // calls start here
	Closed bool   // calls outside business hours start here (hours.closed)
}

// Edge is a way from one node to another.
type Edge struct {
	From, To string
	Label    string // intent (with its keys), case value, status code...; "" for next
	Kind     string // one of the Edge* constants
}

// Node kinds: what a node does last, which decides how it leaves.
const (
	KindListen   = "listen"   // waits for the caller to say or key something (listen/routes)
	KindCollect  = "collect"  // collects digits into a variable
	KindHTTP     = "http"     // asks the hotline's backend, then moves on
	KindTransfer = "transfer" // hands the caller to a person
	KindRecord   = "record"   // takes a message
	KindBranch   = "branch"   // chooses by a value
	KindHangup   = "hangup"   // ends the call
	KindSay      = "say"      // just says something (or sets, tags) and moves on

	// Synthetic nodes.
	KindAny        = "any"         // AnyNode
	KindAnswers    = "answers"     // AnswersNode
	KindAfterHours = "after_hours" // AfterHoursNode
)

// IDs of the synthetic nodes. None is a valid node name, so they cannot
// clash with the script's nodes.
const (
	AnyNode        = "*"
	AnswersNode    = "$answers"
	AfterHoursNode = "$after_hours"
)

// Edge kinds.
const (
	EdgeRoute    = "route"    // an intent recognised in a listen node
	EdgeNext     = "next"     // the node is done
	EdgeBranch   = "branch"   // a branch case or its default
	EdgeOnError  = "on_error" // the HTTP request failed
	EdgeOnStatus = "on_status"
	EdgeOnFail   = "on_fail"  // the transfer failed
	EdgeEscalate = "escalate" // no-input/no-match retries exhausted
	EdgeClosed   = "closed"   // outside business hours
	EdgeGlobal   = "global"   // a global intent, from AnyNode
	EdgeAnswer   = "answer"   // after an answer of the library, from AnswersNode
)

// promptRunes is how much of a prompt a node shows: enough to recognise it,
// short enough to keep the drawing readable.
const promptRunes = 40

// words are the few labels the graph itself writes, in the script's language
// (staff read the drawing in the language they write the script in).
type words struct {
	anyNode, answers, afterHours, repeat, dflt, onError, onFail, escalate, closed string
}

var (
	english = words{
		anyNode: "any node", answers: "answers", afterHours: "after hours", repeat: "repeat",
		dflt: "default", onError: "error", onFail: "transfer failed", escalate: "retries exhausted",
		closed: "closed",
	}
	chinese = words{
		anyNode: "任意节点", answers: "答案库", afterHours: "非营业时间", repeat: "重复",
		dflt: "其他", onError: "出错", onFail: "转接失败", escalate: "重试用尽",
		closed: "非营业时间",
	}
)

func wordsFor(lang string) words {
	if lang == "zh" || strings.HasPrefix(lang, "zh-") {
		return chinese
	}
	return english
}

// Build extracts the flow graph of a loaded script. It does not modify s.
func Build(s *dialog.Script) *Graph {
	w := wordsFor(s.Language)
	g := &Graph{Start: s.Start}
	closedStart := ""
	if s.Hours != nil {
		closedStart = s.Hours.Closed
	}
	intentLabel := func(name string) string {
		if in := s.IntentByName(name); in != nil && len(in.DTMF) > 0 {
			return name + " / " + strings.Join(in.DTMF, ",")
		}
		return name
	}
	// Routes to $repeat loop back; say which intent does it unless it is the obvious one.
	repeatLabel := func(intent string) string {
		if intent == "repeat" {
			return w.repeat + strings.TrimPrefix(intentLabel(intent), intent)
		}
		return intentLabel(intent) + " (" + w.repeat + ")"
	}

	// The default escalation is drawn once from AnyNode; a node that
	// escalates elsewhere gets its own edge.
	defaultEscalate := s.Defaults.Escalate
	anyUsed := len(s.Global) > 0

	for _, name := range s.NodeOrder {
		nd := s.Nodes[name]
		if nd == nil {
			continue
		}
		g.Nodes = append(g.Nodes, Node{
			ID: name, Label: name, Kind: kindOf(nd), Prompt: promptText(nd.Say),
			Start: name == s.Start, Closed: closedStart != "" && name == closedStart,
		})
		add := func(to, label, kind string) {
			if to != "" {
				g.Edges = append(g.Edges, Edge{From: name, To: to, Label: label, Kind: kind})
			}
		}
		for _, r := range nd.Routes {
			if r.Target == dialog.TargetRepeat {
				add(name, repeatLabel(r.Intent), EdgeRoute)
			} else {
				add(r.Target, intentLabel(r.Intent), EdgeRoute)
			}
		}
		add(nd.Next, "", EdgeNext)
		if b := nd.Branch; b != nil {
			for _, c := range b.Cases {
				add(c.Target, c.Value, EdgeBranch)
			}
			add(b.Default, w.dflt, EdgeBranch)
		}
		if h := nd.HTTP; h != nil {
			add(h.OnError, w.onError, EdgeOnError)
			codes := make([]int, 0, len(h.OnStatus))
			for c := range h.OnStatus {
				codes = append(codes, c)
			}
			sort.Ints(codes)
			for _, c := range codes {
				add(h.OnStatus[c], strconv.Itoa(c), EdgeOnStatus)
			}
		}
		if t := nd.Transfer; t != nil {
			add(t.OnFail, w.onFail, EdgeOnFail)
		}
		// Only nodes that wait for input have retries to exhaust (as in dialog's Targets).
		if nd.Listen != nil || nd.Collect != nil {
			if nd.Escalate != "" && nd.Escalate == defaultEscalate {
				anyUsed = true
			} else {
				add(nd.Escalate, w.escalate, EdgeEscalate)
			}
		}
		add(nd.Closed, w.closed, EdgeClosed)
	}

	if anyUsed {
		g.Nodes = append(g.Nodes, Node{ID: AnyNode, Label: w.anyNode, Kind: KindAny})
		for _, r := range s.Global {
			if r.Target == dialog.TargetRepeat {
				g.Edges = append(g.Edges, Edge{From: AnyNode, To: AnyNode, Label: repeatLabel(r.Intent), Kind: EdgeGlobal})
			} else {
				g.Edges = append(g.Edges, Edge{From: AnyNode, To: r.Target, Label: intentLabel(r.Intent), Kind: EdgeGlobal})
			}
		}
		if defaultEscalate != "" && usesDefaultEscalate(s) {
			g.Edges = append(g.Edges, Edge{From: AnyNode, To: defaultEscalate, Label: w.escalate, Kind: EdgeEscalate})
		}
	}

	if len(s.Answers) > 0 {
		g.Nodes = append(g.Nodes, Node{ID: AnswersNode, Label: w.answers, Kind: KindAnswers})
		// One edge per destination, labelled with the intents that lead
		// there, in intent order: the library can hold hundreds of answers.
		byTarget := map[string][]string{}
		for _, in := range s.Intents {
			a := s.Answers[in.Name]
			if a == nil {
				continue
			}
			to := a.Next
			if to == "" {
				to = s.AfterAnswer
			}
			if to != "" {
				byTarget[to] = append(byTarget[to], in.Name)
			}
		}
		for _, to := range orderedTargets(s, byTarget) {
			g.Edges = append(g.Edges, Edge{From: AnswersNode, To: to, Label: listLabel(byTarget[to]), Kind: EdgeAnswer})
		}
	}

	if closedStart != "" {
		g.Nodes = append(g.Nodes, Node{ID: AfterHoursNode, Label: w.afterHours, Kind: KindAfterHours})
		g.Edges = append(g.Edges, Edge{From: AfterHoursNode, To: closedStart, Kind: EdgeClosed})
	}
	return g
}

func usesDefaultEscalate(s *dialog.Script) bool {
	for _, name := range s.NodeOrder {
		nd := s.Nodes[name]
		if nd != nil && (nd.Listen != nil || nd.Collect != nil) && nd.Escalate == s.Defaults.Escalate {
			return true
		}
	}
	return false
}

// orderedTargets returns the keys of m in the script's node order, so that
// the output does not depend on map iteration.
func orderedTargets(s *dialog.Script, m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for _, name := range s.NodeOrder {
		if _, ok := m[name]; ok {
			out = append(out, name)
		}
	}
	return out
}

// listLabel joins names for one edge label, keeping it to a few names.
func listLabel(names []string) string {
	const max = 4
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + ", … (+" + strconv.Itoa(len(names)-max) + ")"
}

// kindOf says what a node does last. The loader allows one of listen,
// collect, transfer, record, branch and hangup per node; HTTP may come with
// any of them, and then the other one decides how the node is left.
func kindOf(nd *dialog.Node) string {
	switch {
	case nd.Listen != nil:
		return KindListen
	case nd.Collect != nil:
		return KindCollect
	case nd.Transfer != nil:
		return KindTransfer
	case nd.Record != nil:
		return KindRecord
	case nd.Branch != nil:
		return KindBranch
	case nd.Hangup:
		return KindHangup
	case nd.HTTP != nil:
		return KindHTTP
	}
	return KindSay
}

// promptText is the first thing a node says, on one line and shortened; a
// recorded prompt shows its file name.
func promptText(p dialog.Prompt) string {
	for _, seg := range p {
		if seg.Text != nil {
			if t := oneLine(seg.Text.String()); t != "" {
				return shorten(t, promptRunes)
			}
		}
	}
	for _, seg := range p {
		if seg.Audio != "" {
			return shorten("♪ "+oneLine(path.Base(seg.Audio)), promptRunes)
		}
	}
	return ""
}

// oneLine collapses runs of white space and control characters to one space.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// shorten cuts s to at most n runes, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return strings.TrimRight(s[:i], " ") + "…"
}
