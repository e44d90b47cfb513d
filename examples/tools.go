package examples

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
)

// maxToolBody is the largest request body a tool endpoint reads.
const maxToolBody = 1 << 20

// tool answers one tool call: args is the JSON object the agent sent.
type tool func(args map[string]any) (any, error)

// tools are the endpoints of Tools, by path.
var tools = map[string]tool{
	// Content Creation Pipeline.
	"web_search":       webSearch,
	"academic_search":  academicSearch,
	"grammar_check":    grammarCheck,
	"style_guide":      styleGuide,
	"fact_check":       factCheck,
	"plagiarism_check": plagiarismCheck,
	// Content Moderation.
	"toxicity_detector":   toxicityDetector,
	"policy_checker":      policyChecker,
	"format_review":       formatReview,
	"priority_assessment": priorityAssessment,
	// E-commerce Order Processing.
	"payment_history":      paymentHistory,
	"address_verification": addressVerification,
	"check_inventory":      checkInventory,
	"reserve_items":        reserveItems,
}

// ToolNames lists the tools Tools serves, sorted.
func ToolNames() []string {
	names := make([]string, 0, len(tools))
	for n := range tools {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Tools returns the HTTP endpoints of the examples' agent tools: POST
// /<tool name> with the call's arguments (a JSON object) as the body
// answers with the result as JSON. The answers are canned and
// deterministic — a stand-in for a search engine, a fact checker, a
// payment system or a warehouse — so that the examples run anywhere
// without network access. A body that is not a JSON object, or an
// argument of the wrong type, is a 400 whose text the agent sees as the
// tool's error; an unknown tool is a 404. The handler holds no state and
// is safe for concurrent use.
func Tools() http.Handler {
	return http.HandlerFunc(serveTool)
}

func serveTool(w http.ResponseWriter, r *http.Request) {
	name := strings.Trim(r.URL.Path, "/")
	t, ok := tools[name]
	if !ok {
		http.Error(w, fmt.Sprintf("no tool %q; the example tools are %s", name, strings.Join(ToolNames(), ", ")), http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "tools are called with POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxToolBody+1))
	if err != nil {
		http.Error(w, "reading the arguments: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxToolBody {
		http.Error(w, "arguments larger than 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	args, err := decodeArgs(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, err := t(args)
	if err != nil {
		http.Error(w, name+": "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// decodeArgs decodes a tool call's arguments: one JSON object (an empty
// body is an empty object).
func decodeArgs(body []byte) (map[string]any, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return map[string]any{}, nil
	}
	var args map[string]any
	if err := json.Unmarshal(body, &args); err != nil {
		return nil, fmt.Errorf("the arguments must be a JSON object: %w", err)
	}
	if args == nil {
		return nil, errors.New("the arguments must be a JSON object, not null")
	}
	return args, nil
}

// str returns the string argument name; required ones must be present.
func str(args map[string]any, name string, required bool) (string, error) {
	v, ok := args[name]
	if !ok || v == nil {
		if required {
			return "", fmt.Errorf("argument %q is required", name)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("argument %q must be a string", name)
	}
	return s, nil
}

// list returns the array argument name.
func list(args map[string]any, name string) ([]any, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return nil, fmt.Errorf("argument %q is required", name)
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("argument %q must be an array", name)
	}
	return l, nil
}

// hash is a stable number derived from s, for canned but varied answers.
func hash(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(strings.TrimSpace(s))))
	return h.Sum32()
}

// slug is s as a URL path segment.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func webSearch(args map[string]any) (any, error) {
	q, err := str(args, "query", true)
	if err != nil {
		return nil, err
	}
	s := slug(q)
	return map[string]any{"query": q, "results": []map[string]any{
		{"title": "An introduction to " + q, "url": "https://encyclopedia.example/" + s,
			"snippet": "An overview of " + q + ", with its history and the most cited findings."},
		{"title": q + ": what the latest studies say", "url": "https://science-news.example/" + s,
			"snippet": "Researchers summarise a decade of work on " + q + "."},
		{"title": "10 surprising facts about " + q, "url": "https://magazine.example/" + s + "-facts",
			"snippet": "From the well known to the obscure: facts about " + q + "."},
	}}, nil
}

func academicSearch(args map[string]any) (any, error) {
	q, err := str(args, "query", true)
	if err != nil {
		return nil, err
	}
	year := 2015 + int(hash(q)%10)
	return map[string]any{"query": q, "papers": []map[string]any{
		{"title": "A review of " + q, "authors": []string{"Ng, A.", "Okafor, C."}, "year": year,
			"doi": fmt.Sprintf("10.5555/example.%d", hash(q)%100000)},
		{"title": "New evidence on " + q, "authors": []string{"Lindqvist, M."}, "year": year + 2,
			"doi": fmt.Sprintf("10.5555/example.%d", hash(q+"2")%100000)},
	}}, nil
}

func grammarCheck(args map[string]any) (any, error) {
	text, err := str(args, "text", true)
	if err != nil {
		return nil, err
	}
	issues := []map[string]any{}
	for _, w := range []struct{ bad, good string }{{"alot", "a lot"}, {"could of", "could have"}, {"their is", "there is"}} {
		if i := strings.Index(strings.ToLower(text), w.bad); i >= 0 {
			issues = append(issues, map[string]any{"offset": i, "found": w.bad, "suggestion": w.good})
		}
	}
	return map[string]any{"words": len(strings.Fields(text)), "issues": issues, "ok": len(issues) == 0}, nil
}

func styleGuide(args map[string]any) (any, error) {
	return map[string]any{"rules": []string{
		"Lead with the most surprising fact.",
		"Short paragraphs: three sentences at most.",
		"Active voice; no jargon without an explanation.",
		"Cite a source for every number.",
	}}, nil
}

func factCheck(args map[string]any) (any, error) {
	claims, err := list(args, "claims")
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(claims))
	for _, c := range claims {
		s, ok := c.(string)
		if !ok {
			return nil, errors.New(`argument "claims" must be an array of strings`)
		}
		verdict := "supported"
		if strings.Contains(strings.ToLower(s), "always") || strings.Contains(strings.ToLower(s), "never") {
			verdict = "overstated"
		}
		out = append(out, map[string]any{"claim": s, "verdict": verdict})
	}
	return map[string]any{"claims": out}, nil
}

func plagiarismCheck(args map[string]any) (any, error) {
	text, err := str(args, "text", true)
	if err != nil {
		return nil, err
	}
	return map[string]any{"similarity": round2(float64(hash(text)%5) / 100), "matches": []any{}}, nil
}

// toxicWords weigh the words the toxicity detector counts.
var toxicWords = map[string]float64{
	"idiot": 0.3, "idiots": 0.3, "stupid": 0.2, "clown": 0.15, "clowns": 0.15, "hate": 0.25,
	"moron": 0.35, "morons": 0.35, "garbage": 0.1, "pathetic": 0.15, "kill": 0.5, "trash": 0.1,
}

// toxicity is a naive lexicon score of text in [0, 1].
func toxicity(text string) (float64, []string) {
	score := 0.0
	var found []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '\'')
	}) {
		if v, ok := toxicWords[w]; ok {
			score += v
			found = append(found, w)
		}
	}
	return round2(min(score, 1)), found
}

func toxicityDetector(args map[string]any) (any, error) {
	text, err := str(args, "text", true)
	if err != nil {
		return nil, err
	}
	score, found := toxicity(text)
	return map[string]any{"toxicity_score": score, "flagged_terms": found}, nil
}

func policyChecker(args map[string]any) (any, error) {
	text, err := str(args, "text", true)
	if err != nil {
		return nil, err
	}
	violations := []map[string]any{}
	score, found := toxicity(text)
	if len(found) > 0 {
		violations = append(violations, map[string]any{"policy": "harassment", "severity": severity(score),
			"evidence": found})
	}
	if strings.Contains(strings.ToLower(text), "http://") || strings.Contains(strings.ToLower(text), "buy now") {
		violations = append(violations, map[string]any{"policy": "spam", "severity": "low"})
	}
	return map[string]any{"violations": violations, "policies_checked": []string{"harassment", "hate_speech", "spam", "violence"}}, nil
}

func severity(score float64) string {
	switch {
	case score > 0.8:
		return "high"
	case score >= 0.3:
		return "medium"
	}
	return "low"
}

func formatReview(args map[string]any) (any, error) {
	id, err := str(args, "content_id", true)
	if err != nil {
		return nil, err
	}
	summary, err := str(args, "summary", false)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ticket": fmt.Sprintf("REV-%04d", hash(id)%10000), "content_id": id,
		"queue": "trust-and-safety", "summary": summary}, nil
}

func priorityAssessment(args map[string]any) (any, error) {
	v, ok := args["toxicity_score"].(float64)
	if !ok {
		return nil, errors.New(`argument "toxicity_score" must be a number`)
	}
	p, sla := "normal", "24h"
	switch {
	case v > 0.7:
		p, sla = "high", "1h"
	case v < 0.4:
		p, sla = "low", "72h"
	}
	return map[string]any{"priority": p, "sla": sla}, nil
}

func paymentHistory(args map[string]any) (any, error) {
	id, err := str(args, "customer_id", true)
	if err != nil {
		return nil, err
	}
	h := hash(id)
	return map[string]any{"customer_id": id, "customer_since": fmt.Sprintf("%d-03-14", 2016+h%6),
		"orders": 5 + h%20, "chargebacks": 0, "failed_payments_90d": h % 2,
		"average_order_value": round2(80 + float64(h%400))}, nil
}

func addressVerification(args map[string]any) (any, error) {
	street, err := str(args, "street", true)
	if err != nil {
		return nil, err
	}
	zip, err := str(args, "zip", true)
	if err != nil {
		return nil, err
	}
	ok := street != "" && len(zip) == 5
	return map[string]any{"verified": ok, "deliverable": ok, "residential": true,
		"normalized": strings.ToUpper(street) + " " + zip}, nil
}

// stock is the warehouse of the e-commerce example.
var stock = map[string]int{"LAPTOP-001": 12, "MOUSE-002": 240, "MONITOR-003": 0, "DOCK-004": 7}

func checkInventory(args map[string]any) (any, error) {
	skus, err := list(args, "skus")
	if err != nil {
		return nil, err
	}
	levels := map[string]any{}
	for _, s := range skus {
		sku, ok := s.(string)
		if !ok {
			return nil, errors.New(`argument "skus" must be an array of strings`)
		}
		n, known := stock[sku]
		levels[sku] = map[string]any{"available": n, "known": known, "warehouse": "RNO-1"}
	}
	return map[string]any{"levels": levels}, nil
}

func reserveItems(args map[string]any) (any, error) {
	order, err := str(args, "order_id", true)
	if err != nil {
		return nil, err
	}
	items, err := list(args, "items")
	if err != nil {
		return nil, err
	}
	reserved, backordered := []map[string]any{}, []map[string]any{}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, errors.New(`argument "items" must be an array of {sku, quantity} objects`)
		}
		sku, _ := m["sku"].(string)
		qty, _ := m["quantity"].(float64)
		if sku == "" || qty < 1 {
			return nil, errors.New(`every item needs a sku and a quantity of at least 1`)
		}
		line := map[string]any{"sku": sku, "quantity": qty}
		if float64(stock[sku]) >= qty {
			reserved = append(reserved, line)
		} else {
			backordered = append(backordered, line)
		}
	}
	return map[string]any{"reservation_id": "RSV-" + order, "reserved": reserved, "backordered": backordered}, nil
}
