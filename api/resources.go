package api

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/circuit-breaker/circuit-breaker/actors"
	"github.com/circuit-breaker/circuit-breaker/projections"
)

// IdempotencyHeader carries a command's idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// CreateResourceRequest is the body of POST /api/v1/resources.
type CreateResourceRequest struct {
	WorkflowID      string         `json:"workflowId"`
	WorkflowVersion int            `json:"workflowVersion,omitempty"`
	ID              string         `json:"id,omitempty"`
	Data            map[string]any `json:"data,omitempty"`
	IdempotencyKey  string         `json:"idempotencyKey,omitempty"`
}

// FireRequest is the (optional) body of POST .../activities/{activity}.
type FireRequest struct {
	Data           map[string]any `json:"data,omitempty"`
	IdempotencyKey string         `json:"idempotencyKey,omitempty"`
}

// ResourceList is the body of GET /api/v1/resources.
type ResourceList struct {
	Resources []projections.ResourceView `json:"resources"`
}

// History is the body of GET /api/v1/resources/{id}/history.
type History struct {
	ResourceID string                     `json:"resourceId"`
	Entries    []projections.HistoryEntry `json:"history"`
}

// idempotencyKey merges the header and the body's key; both may be given
// only if they agree.
func idempotencyKey(r *http.Request, body string) (string, error) {
	hdr := r.Header.Get(IdempotencyHeader)
	if hdr != "" && body != "" && hdr != body {
		return "", invalid(Problem{Path: "idempotencyKey", Msg: "differs from the " + IdempotencyHeader + " header"})
	}
	if hdr != "" {
		return hdr, nil
	}
	return body, nil
}

func (h *handler) createResource(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req CreateResourceRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	var probs []Problem
	if req.WorkflowID == "" {
		probs = append(probs, Problem{Path: "workflowId", Msg: "is required"})
	}
	if req.WorkflowVersion < 0 {
		probs = append(probs, Problem{Path: "workflowVersion", Msg: "must be positive (or left out for the latest)"})
	}
	key, err := idempotencyKey(r, req.IdempotencyKey)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if len(probs) > 0 {
		h.writeError(w, r, invalid(probs...))
		return
	}
	res, err := h.sys.CreateResource(r.Context(), actors.CreateResource{
		Caller: c, ResourceID: req.ID, WorkflowID: req.WorkflowID, WorkflowVersion: req.WorkflowVersion,
		Data: req.Data, IdempotencyKey: key, CorrelationID: r.Header.Get("X-Correlation-Id"),
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/resources/"+url.PathEscape(res.ID))
	writeJSON(w, http.StatusCreated, res)
}

func (h *handler) getResource(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	res, err := h.sys.Resource(r.Context(), c, r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *handler) listResources(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	list := h.views.Resources(c.Tenant, projections.ResourceFilter{WorkflowID: q.Get("workflowId"), State: q.Get("state")})
	if list == nil {
		list = []projections.ResourceView{}
	}
	writeJSON(w, http.StatusOK, ResourceList{Resources: list})
}

// history serves a resource's audit trail, read from its event stream: it
// includes every acknowledged command (read your writes).
func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	entries, ok, err := projections.History(r.Context(), h.store, c.Tenant, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if !ok {
		h.writeError(w, r, fmt.Errorf("history of resource %q: %w", id, actors.ErrNotFound))
		return
	}
	writeJSON(w, http.StatusOK, History{ResourceID: id, Entries: entries})
}

func (h *handler) fire(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req FireRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	key, err := idempotencyKey(r, req.IdempotencyKey)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	t, err := h.sys.Fire(r.Context(), actors.FireActivity{
		Caller: c, ResourceID: r.PathValue("id"), ActivityID: r.PathValue("activity"),
		Input: req.Data, IdempotencyKey: key, CorrelationID: r.Header.Get("X-Correlation-Id"),
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
