package dialog

// catalogue holds every message about a script in English and Chinese: the
// staff who write scripts read them in their own language.
var catalogue = map[string]struct{ en, zh string }{
	// YAML shape
	"yaml-syntax":           {"YAML syntax: %s", "YAML 语法错误:%s"},
	"empty-file":            {"the file is empty", "文件是空的"},
	"read-file":             {"cannot read the file: %s", "无法读取文件:%s"},
	"too-large":             {"the document is too large (aliases expand to too many values)", "文档过大(别名展开后的值太多)"},
	"too-many-files":        {"more than %d files are included", "包含的文件超过 %d 个"},
	"want-mapping":          {"%s must be a mapping (key: value), not %s", "%s 必须是映射(键: 值),而不是%s"},
	"want-list":             {"%s must be a list, not %s", "%s 必须是列表,而不是%s"},
	"want-string":           {"%s must be text, not %s", "%s 必须是文本,而不是%s"},
	"want-bool":             {"%s must be true or false, not %q", "%s 必须是 true 或 false,而不是 %q"},
	"want-int":              {"%s must be a whole number, not %q", "%s 必须是整数,而不是 %q"},
	"want-number":           {"%s must be a number, not %q", "%s 必须是数字,而不是 %q"},
	"want-duration":         {"%s must be a duration such as 6s or 600ms, not %v", "%s 必须是时长,例如 6s 或 600ms,而不是 %v"},
	"duration-unit":         {"%s: %q has no unit; write for example %[2]ss", "%s:%q 缺少单位;例如写成 %[2]ss"},
	"out-of-range":          {"%s is %v; it must be between %v and %v", "%s 是 %v;必须在 %v 到 %v 之间"},
	"bad-key":               {"a key of %s must be plain text", "%s 的键必须是普通文本"},
	"merge-key":             {"YAML merge keys (<<) are not supported; write the fields out", "不支持 YAML 合并键(<<),请直接写出各字段"},
	"duplicate-key":         {"%q appears twice in %s", "%q 在 %s 中出现了两次"},
	"unknown-field":         {"unknown field %q in %s (known fields: %s)", "%[2]s 中没有字段 %[1]q(可用字段:%[3]s)"},
	"unknown-field-suggest": {"unknown field %q in %s; did you mean %q?", "%[2]s 中没有字段 %[1]q;是不是想写 %[3]q?"},
	"missing-field":         {"%q is required in %s", "%[2]s 中缺少必填字段 %[1]q"},

	// includes
	"include-depth": {"includes are nested deeper than %d levels", "包含文件的嵌套超过 %d 层"},
	"bad-include":   {"bad include pattern %q: %s", "包含文件的模式 %q 有误:%s"},
	"include-none":  {"include %q matches no file", "包含文件 %q 没有匹配到任何文件"},

	// names and values
	"bad-name":      {"%s name %q: use letters, digits, _ , - and . only", "%s 名称 %q 有误:只能使用字母、数字、_、- 和 ."},
	"duplicate-def": {"%s %q is defined twice (first at %s)", "%s %q 定义了两次(第一次在 %s)"},
	"bad-language":  {"language %q is not a BCP 47 tag such as zh-CN or en-US", "语言 %q 不是 BCP 47 标签,例如 zh-CN 或 en-US"},
	"bad-input":     {"input %q: use speech and/or dtmf", "输入方式 %q 有误:只能是 speech 和/或 dtmf"},
	"no-input-kind": {"no input is allowed: enable speech or dtmf", "没有允许任何输入方式:请启用 speech 或 dtmf"},
	"bad-end-key":   {"end key %q must be one keypad key (0-9, *, #, A-D)", "结束键 %q 必须是一个按键(0-9、*、#、A-D)"},
	"min-max":       {"min %d is larger than max %d", "最小值 %d 大于最大值 %d"},
	"bad-timezone":  {"unknown time zone %q (use an IANA name such as Asia/Shanghai)", "未知时区 %q(请使用 IANA 名称,例如 Asia/Shanghai)"},
	"bad-hours":     {"business hours: %s", "营业时间:%s"},
	"bad-dtmf":      {"dtmf %q: use keypad keys 0-9, *, #, A-D (quote * and # in YAML)", "按键 %q 有误:只能使用 0-9、*、#、A-D(在 YAML 中 * 和 # 要加引号)"},
	"bad-audio":     {"bad audio file name %q", "音频文件名 %q 有误"},
	"bad-template":  {"template: %s", "模板错误:%s"},
	"bad-var":       {"variable name %q: use lower-case letters, digits and _", "变量名 %q 有误:只能使用小写字母、数字和 _"},
	"builtin-var":   {"%q is a built-in variable and cannot be set", "%q 是内置变量,不能赋值"},
	"bad-pattern":   {"pattern %q: %s", "正则表达式 %q 有误:%s"},
	"bad-url":       {"url %q must start with http:// or https://", "url %q 必须以 http:// 或 https:// 开头"},
	"bad-method":    {"method %q: use GET, POST, PUT, PATCH or DELETE", "请求方法 %q 有误:只能是 GET、POST、PUT、PATCH 或 DELETE"},
	"bad-status":    {"%q is not an HTTP status code", "%q 不是 HTTP 状态码"},
	"two-urls":      {"give the url once (url, get, post, put, patch or delete)", "url 只能写一次(url、get、post、put、patch 或 delete 之一)"},
	"bad-header":    {"header name %q is not a valid token", "头字段名 %q 不合法"},
	"bad-uri":       {"transfer target %q must be a sip:, sips: or tel: URI", "转接目标 %q 必须是 sip:、sips: 或 tel: 地址"},
	"bad-mode":      {"transfer mode %q: use blind or bridge", "转接方式 %q 有误:只能是 blind 或 bridge"},
	"whisper-blind": {"whisper needs mode: bridge (a blind transfer cannot speak to the agent)", "whisper 需要 mode: bridge(盲转无法对坐席播报)"},
	"record-false":  {"record: false records nothing; remove the field instead", "record: false 不会录音;请直接删除该字段"},
	"bad-grade":     {"grade %q: use one capital letter A to E", "评级 %q 有误:只能是 A 到 E 中的一个大写字母"},

	// structure
	"short-synonyms":       {"a synonym group needs at least two words", "同义词组至少需要两个词"},
	"empty-keyword":        {"keyword %q of intent %q has no letters or digits", "意图 %[2]q 的关键词 %[1]q 没有任何文字或数字"},
	"empty-example":        {"example %q of intent %q has no letters or digits", "意图 %[2]q 的例句 %[1]q 没有任何文字或数字"},
	"empty-intent":         {"intent %q has no keywords, dtmf keys or examples", "意图 %q 没有关键词、按键或例句"},
	"empty-say":            {"a prompt needs text or audio", "提示语需要 text 或 audio"},
	"empty-answer":         {"the answer to %q says nothing", "意图 %q 的答案没有内容"},
	"empty-node":           {"node %q does nothing", "节点 %q 什么也不做"},
	"conflict":             {"node %q can do only one of: %s", "节点 %q 只能做其中一件事:%s"},
	"next-conflict":        {"node %q has next, but %s decides where the call goes", "节点 %q 写了 next,但 %s 已决定通话的去向"},
	"no-nodes":             {"the script has no nodes", "脚本没有任何节点"},
	"unknown-intent":       {"unknown intent %q in %s (intents: %s)", "%[2]s 中的意图 %[1]q 不存在(已有意图:%[3]s)"},
	"unknown-node":         {"unknown node %q in %s", "%[2]s 指向的节点 %[1]q 不存在"},
	"unknown-node-suggest": {"unknown node %q in %s; did you mean %q?", "%[2]s 指向的节点 %[1]q 不存在;是不是想写 %[3]q?"},
	"handoff-not-global":   {"intent %q is marked handoff: true, so it must be listed in global (where should it go?)", "意图 %q 标记了 handoff: true,所以必须列在 global 中(否则它该转到哪里?)"},
	"loop":                 {"these nodes go round forever without waiting for the caller: %s", "这些节点会无限循环而不等待来电者:%s"},
	"matcher":              {"building the matcher: %s", "构建匹配器失败:%s"},

	// the learned file
	"learned-exists":   {"the new answer %q has the name of an existing intent (at %s): give it another name, or teach that intent under intents:", "新答案 %q 与已有的意图同名(在 %s):请换一个名字,或者在 intents: 下教那个意图"},
	"learned-conflict": {"%s %q already belongs to intent %q (at %s): one phrase can teach only one intent", "%s %q 已经属于意图 %q(在 %s):同一个说法只能教给一个意图"},

	// conversation tests
	"bad-test": {"%s", "%s"},

	// warnings from lint
	"unreachable":     {"node %q can never be reached", "节点 %q 永远不会被执行到"},
	"dead-end":        {"node %q is a dead end: add next, routes, transfer or hangup (the bot would hang up here)", "节点 %q 是死胡同:请加上 next、routes、transfer 或 hangup(机器人会在这里挂断)"},
	"same-keyword":    {"keyword %q is in both intent %q and intent %q", "关键词 %q 同时出现在意图 %q 和意图 %q 中"},
	"unused-intent":   {"intent %q is never used (not in any routes, global or answers)", "意图 %q 没有被使用(不在任何 routes、global 或 answers 中)"},
	"unknown-var":     {"{{%s}} is never set: it is not built in, collected, fetched or set anywhere", "{{%s}} 从未被赋值:它不是内置变量,也没有被收集、查询或设置"},
	"missing-audio":   {"audio file %q does not exist", "音频文件 %q 不存在"},
	"no-human":        {"no node transfers the caller to a person", "没有任何节点把来电转给人工"},
	"no-keypad-route": {"node %q cannot be answered by keys: when speech recognition is down, callers there are stuck (give its intents dtmf keys)", "节点 %q 无法用按键回答:语音识别不可用时来电者会卡在这里(请为其意图设置 dtmf 按键)"},
	"no-handoff":      {"no intent is marked handoff: true; callers cannot ask for a person everywhere", "没有意图标记为 handoff: true;来电者无法在任何时候要求转人工"},
	"dtmf-clash":      {"key %q is bound to both %q and %q in node %q", "按键 %q 在节点 %[4]q 中同时绑定了 %[2]q 和 %[3]q"},
	"listen-nothing":  {"node %q listens but nothing can match there (no routes, global intents or answers)", "节点 %q 在等待输入,但那里没有任何可匹配的意图(没有 routes、global 或 answers)"},
	"no-on-fail":      {"the transfer in node %q has no on_fail: if nobody answers, the bot apologises and hangs up", "节点 %q 的转接没有 on_fail:如果无人接听,机器人会道歉并挂断"},
	"no-on-error":     {"the request in node %q has no on_error: if the backend fails, the call escalates or ends", "节点 %q 的请求没有 on_error:后台出错时通话会升级或结束"},
	"no-recording-notice": {
		"callers are not told the call is recorded before node %q asks them for something: nothing they hear on the way (%s) mentions recording. Say it before then, e.g. \"this call is recorded\", or name the node that says it in recording_notice; %s",
		"节点 %q 请来电者回应之前,没有告诉来电者通话会被录音:一路上(%s)听到的提示语都没有提到录音。请在此之前说明,例如“本次通话将被录音”,或者用 recording_notice 指明说这句话的节点;%s",
	},
}
