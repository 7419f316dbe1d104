// Package learn is hotline's learning loop: the questions the bot could not
// answer are grouped as they come in (Grouper), staff see them in an inbox
// (Inbox: `hotline unanswered`, the admin UI) and teach the bot once per
// group — an example or a keyword for an existing intent, or a new
// answer-library entry — through dialog.Learn, which writes the script's
// learned file (script.learned.yaml) only if the whole script loads with
// the change. A running `hotline serve` watches that file and reloads the
// script by itself.
//
// It imports dialog (normalisation, Learn) and store (the questions and
// groups); neither imports it.
//
// # Grouping
//
// Grouper.Add normalises a question with dialog/textnorm, as the matcher
// does (Normalize: width and case folding, Traditional → Simplified, number
// words as digits, English words stemmed, one unit per Chinese character),
// and compares it with the open groups of its language that were asked most
// recently (500 by default): with each group's representative question and
// the last few questions the grouper put in it. It joins the most similar
// group if the similarity reaches the threshold, else opens a new group.
//
// Similarity is the cosine of two weighted bags of features:
//
//   - English (and other scripts with spaces): stemmed words, each weight 1,
//     except a short list of stop words ("how", "do", "I", "can", "please",
//     "want"…) that weigh 0 — negations and numbers are not stop words;
//   - Chinese: each character (weight 1) and each pair of neighbouring
//     characters (weight 1), since Chinese words are not written apart (发票
//     is one word, 发 and 票 are not it); stop characters (的 了 吗 呢 我 你
//     们 请 问 怎 么 什 哪 可 以 能 要…) weigh 0 alone and make a pair weigh ½;
//   - any number: one feature "#" of weight ½ (account numbers differ, the
//     question does not).
//
// Two questions with the same normalised text have similarity 1.
//
// The threshold, DefaultThreshold = 0.52, was chosen on the labelled table
// in similarity_test.go: 22 pairs of questions asked in other words (12
// English, 10 Chinese) and 19 pairs of different questions sharing words.
// Paraphrases scored 0.554–1.0 (lowest: 退货运费谁出 / 退货的运费由谁承担
// 0.554, "do you install solar panels" / "can you fit solar panels on my
// roof" 0.577); different questions scored 0–0.50 ("how do I change my
// tariff" / "how do I change my address" 0.50, 快递到哪里了 / 快递能送到新疆吗
// 0.47), with one exception: "my account number is 12345678 and I need a
// refund" / "what is my account number" 0.78, which a bag of words cannot
// tell apart (it needs word weights learned from the inbox). At 0.52 all 22
// paraphrases group and 1 of the 19 different pairs does. A higher
// threshold makes more, smaller groups (staff merge by assigning each to
// the same intent); a lower one mixes questions, which is worse, since a
// group is taught as one.
//
// Grouping runs on every unanswered utterance of every call, so the open
// groups are cached per language (30 s by default) and the cache is kept
// up to date with what the grouper itself adds. Questions of one language
// are grouped one at a time (waiting is bounded by the caller's context),
// so two callers asking the same thing at once do not open two groups.
// Several hotline instances on one database each have their own cache: a
// question may then open a group another instance opened a moment before;
// staff resolve both the same way.
//
// # The inbox
//
// Inbox.List lists groups (open by default) most asked first, with a sample
// question or two; Show a group's questions with call IDs, nodes, times and
// audio snippets. Assign teaches an existing intent with the group's
// question (as an example, or a keyword), NewAnswer makes a new entry of
// the answer library, and both mark the group assigned only after
// dialog.Learn wrote the learned file; a change the script rejects comes
// back as a *RejectedError with the script's diagnostics, the file
// untouched and the group still open. Ignore sets a group aside with a
// reason. An assigned group cannot be assigned or ignored again
// (*ResolvedError): what was taught is changed by editing the learned
// file.
package learn
