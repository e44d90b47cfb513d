package examples

import (
	"github.com/circuit-breaker/circuit-breaker/llm"
	"github.com/circuit-breaker/circuit-breaker/providers/sim"
)

// Scenario is one run of an example: a resource, what the models answer,
// what humans answer and do, and where the resource ends.
type Scenario struct {
	// ResourceID and Data are the resource to create.
	ResourceID string
	Data       map[string]any
	// Replies are scripted into the provider simulator before the
	// resource is created; each model consumes its own replies in order.
	Replies []Reply
	// Answers are the human answers to the waits the resource parks on,
	// by the id of the activity that waits (a waitForHuman activity, or
	// the agent activity whose run called escalate_to_human).
	Answers map[string]any
	// Settle is the state automation brings the resource to on its own.
	Settle string
	// Fire are the activities fired by hand after that, in order.
	Fire []Fire
}

// End is the state the scenario leaves the resource in.
func (s Scenario) End() string {
	if len(s.Fire) > 0 {
		return s.Fire[len(s.Fire)-1].To
	}
	return s.Settle
}

// Reply is a scripted answer of Model.
type Reply struct {
	Model string
	Step  sim.Step
}

// Fire is an activity fired by hand (as a person or another system
// would, through the API) with Data, after which the resource is in To.
type Fire struct {
	Activity string
	Data     map[string]any
	To       string
}

// Script queues the scenario's replies into s.
func (sc Scenario) Script(s *sim.Server) {
	for _, r := range sc.Replies {
		s.Script(r.Model, r.Step)
	}
}

func text(model, t string) Reply { return Reply{Model: model, Step: sim.Step{Text: t}} }

// calls is a reply of model calling tools, all at once; each call is a
// name and its arguments (a JSON object).
func calls(model string, nameArgs ...string) Reply {
	var tc []llm.ToolCall
	for i := 0; i+1 < len(nameArgs); i += 2 {
		tc = append(tc, llm.ToolCall{Name: nameArgs[i], Arguments: nameArgs[i+1]})
	}
	return Reply{Model: model, Step: sim.Step{ToolCalls: tc}}
}

var contentCreation = Scenario{
	ResourceID: "article-octopus",
	Data:       map[string]any{"topic": "How octopuses think", "audience": "curious adults", "words": 300},
	Replies: []Reply{
		calls("gpt-4o", "web_search", `{"query": "octopus intelligence"}`),
		text("gpt-4o", "Key facts:\n"+
			"1. Two thirds of an octopus's neurons are in its arms (https://encyclopedia.example/octopus-intelligence).\n"+
			"2. Octopuses solve mazes and open jars (https://science-news.example/octopus-intelligence).\n"+
			"3. They change colour and texture in milliseconds (https://magazine.example/octopus-intelligence-facts)."),
		text("claude-sonnet-4-5", "Eight Arms, Many Minds\n\nAn octopus always knows what it is doing: two thirds "+
			"of its neurons sit in its arms, which solve mazes and open jars on their own."),
		calls("gpt-4o-mini", "fact_check", `{"claims": ["An octopus always knows what it is doing", "Two thirds of its neurons sit in its arms"]}`),
		text("gpt-4o-mini", `{"approved": false, "score": 6, "comments": "The first claim is overstated; say what the arms do and cite the colour change."}`),
		text("claude-sonnet-4-5", "Eight Arms, Many Minds\n\nTwo thirds of an octopus's neurons sit in its arms, "+
			"which can explore, taste and grip on their own. Octopuses solve mazes, open jars and change colour "+
			"and texture in milliseconds."),
		text("gpt-4o-mini", `{"approved": true, "score": 9, "comments": "Accurate, sourced and lively."}`),
	},
	Answers: map[string]any{"editor_signoff": map[string]any{"decision": "publish", "editor": "Dana"}},
	Settle:  "published",
}

var documentProcessor = Scenario{
	ResourceID: "invoice-1042",
	Data: map[string]any{"filename": "invoice-1042.txt",
		"content": "ACME Corp — INVOICE #1042\nDate: 2025-03-01\nBill to: Globex Ltd\n3 × Anvil (heavy) @ 410.00\nShipping 54.50\nTOTAL EUR 1284.50\nPayment due within 30 days."},
	Replies: []Reply{
		text("gpt-4o", "ACME Corp - INVOICE #1042\nDate: 2025-03-01\nBill to: Globex Ltd\n3 x Anvil (heavy) @ 410.00\n"+
			"Shipping 54.50\nTOTAL EUR 1284.50\nPayment due within 30 days."),
		text("claude-haiku-4-5", `{"category": "invoice", "summary": "ACME Corp bills Globex Ltd for three heavy anvils and shipping, due within 30 days.", "sentiment": "neutral", "amount": 1284.5, "currency": "EUR"}`),
	},
	Settle: "completed",
}

// moderatedPost scores 0.6 with the example toxicity detector.
const moderatedPost = "The council's new parking policy is stupid garbage, and whoever wrote it is a clown. Pathetic."

var contentModeration = Scenario{
	ResourceID: "post-789",
	Data:       map[string]any{"id": "POST-789", "text": moderatedPost, "author": "user123", "timestamp": "2024-01-15T10:30:00Z"},
	Replies: []Reply{
		calls("gpt-4o",
			"toxicity_detector", `{"text": "`+moderatedPost+`"}`,
			"policy_checker", `{"text": "`+moderatedPost+`"}`),
		text("gpt-4o", `{"toxicity_score": 0.6, "violations": ["harassment"], "explanation": "Insults aimed at the author of a policy; borderline harassment."}`),
		calls("claude-sonnet-4-5",
			"format_review", `{"content_id": "POST-789", "summary": "Insults about the author of a parking policy (toxicity 0.6)"}`,
			"priority_assessment", `{"toxicity_score": 0.6}`),
		calls("claude-sonnet-4-5", "escalate_to_human",
			`{"question": "Ticket REV-1744, normal priority: POST-789 calls a policy's author a clown (toxicity 0.6, possible harassment). I recommend approving it as criticism of a public decision. Approve or reject?"}`),
		text("claude-sonnet-4-5", `{"decision": "approve", "reason": "The moderator judged it rude criticism of a public decision, not harassment.", "ticket": "REV-1744"}`),
	},
	Answers: map[string]any{"escalate": "Approve it: rude, but it criticises a public decision, not a private person."},
	Settle:  "approved",
}

var orderProcessing = Scenario{
	ResourceID: "order-123",
	Data: map[string]any{
		"id": "ORDER-123", "customer_id": "CUST-456",
		"items": []any{
			map[string]any{"sku": "LAPTOP-001", "quantity": 1, "price": 1299.99},
			map[string]any{"sku": "MOUSE-002", "quantity": 1, "price": 49.99},
		},
		"order_total":      1349.98,
		"shipping_address": map[string]any{"street": "123 Main St", "city": "Anytown", "state": "CA", "zip": "12345"},
		"payment_method":   "credit_card",
	},
	Replies: []Reply{
		calls("gpt-4o",
			"payment_history", `{"customer_id": "CUST-456"}`,
			"address_verification", `{"street": "123 Main St", "city": "Anytown", "state": "CA", "zip": "12345"}`),
		text("gpt-4o", `{"risk_score": 0.12, "explanation": "Long-standing customer without chargebacks; the address is verified and deliverable."}`),
		calls("claude-haiku-4-5", "check_inventory", `{"skus": ["LAPTOP-001", "MOUSE-002"]}`),
		calls("claude-haiku-4-5", "reserve_items",
			`{"order_id": "ORDER-123", "items": [{"sku": "LAPTOP-001", "quantity": 1}, {"sku": "MOUSE-002", "quantity": 1}]}`),
		text("claude-haiku-4-5", `{"all_reserved": true, "reservation_id": "RSV-ORDER-123", "backordered": []}`),
	},
	Answers: map[string]any{"high_value_review": map[string]any{"approved": true, "reviewer": "ops-lead"}},
	Settle:  "fulfillment",
	Fire: []Fire{
		{Activity: "ship", Data: map[string]any{"tracking_number": "1Z999AA10123456784"}, To: "shipped"},
		{Activity: "deliver", To: "delivered"},
	},
}

var documentApproval = Scenario{
	ResourceID: "policy-doc-7",
	Data:       map[string]any{"title": "Remote work policy", "body": "Employees may work remotely up to three days a week."},
	Replies: []Reply{
		text("gpt-4", "Compliant and clear; one suggestion: say who approves exceptions. Quality 9/10."),
	},
	Settle: "submitted",
	Fire: []Fire{
		{Activity: "start_review", To: "under_review"},
		{Activity: "approve_document", Data: map[string]any{"score": 9}, To: "approved"},
	},
}
