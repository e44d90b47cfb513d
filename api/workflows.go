package api

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/circuit-breaker/circuit-breaker/projections"
	"github.com/circuit-breaker/circuit-breaker/workflow"
)

// WorkflowList is the body of GET /api/v1/workflows.
type WorkflowList struct {
	Workflows []projections.WorkflowView `json:"workflows"`
}

// parseDefinition reads a workflow definition (JSON or YAML) from the body.
func parseDefinition(w http.ResponseWriter, r *http.Request) (workflow.Definition, error) {
	b, err := readBody(w, r)
	if err != nil {
		return workflow.Definition{}, err
	}
	return workflow.Parse(b)
}

func (h *handler) createWorkflow(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	def, err := parseDefinition(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if def.Version != 0 {
		h.writeError(w, r, invalid(Problem{Path: "version", Msg: "is assigned by the server; leave it out"}))
		return
	}
	def, err = h.sys.Workflows.Create(r.Context(), c, def)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/workflows/"+url.PathEscape(def.ID))
	writeJSON(w, http.StatusCreated, def)
}

func (h *handler) putWorkflow(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	def, err := parseDefinition(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if def.ID != "" && def.ID != id {
		h.writeError(w, r, invalid(Problem{Path: "id", Msg: "must match the URL's workflow id " + strconv.Quote(id)}))
		return
	}
	if def.Version != 0 {
		h.writeError(w, r, invalid(Problem{Path: "version", Msg: "is assigned by the server; leave it out"}))
		return
	}
	def, err = h.sys.Workflows.NewVersion(r.Context(), c, id, def)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, def)
}

func (h *handler) getWorkflow(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		version, err = strconv.Atoi(v)
		if err != nil || version < 1 {
			h.writeError(w, r, badRequest("version must be a positive integer", Problem{Path: "version", Msg: "must be a positive integer"}))
			return
		}
	}
	m, err := h.sys.Workflows.Machine(r.Context(), c, r.PathValue("id"), version)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m.Definition())
}

func (h *handler) listWorkflows(w http.ResponseWriter, r *http.Request) {
	c, err := caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	list := h.views.Workflows(c.Tenant)
	if list == nil {
		list = []projections.WorkflowView{}
	}
	writeJSON(w, http.StatusOK, WorkflowList{Workflows: list})
}
