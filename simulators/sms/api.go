package sms

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
)

// Handler is the edge: the API and the page.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/messages", s.send)
	mux.HandleFunc("GET /v1/messages", s.list)
	mux.HandleFunc("GET /v1/messages/{id}", s.get)
	mux.HandleFunc("GET /{$}", s.page)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func (s *Service) admit(w http.ResponseWriter, r *http.Request, send bool) bool {
	switch err := s.faults.admit(r.Context(), send); {
	case errors.Is(err, errDown):
		w.Header().Set("Retry-After", "1")
		apiError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return false
	case err != nil:
		apiError(w, http.StatusInternalServerError, "internal", err.Error())
		return false
	}
	return true
}

type sendRequest struct {
	To     string `json:"to"`
	Sender string `json:"sender"`
	Text   string `json:"text"`
}

func (s *Service) send(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r, true) {
		return
	}
	var in sendRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request", "body must be a JSON message: "+err.Error())
		return
	}
	m, replayed, err := s.store.Send(r.Header.Get("Idempotency-Key"), in.To, in.Sender, in.Text)
	switch {
	case errors.Is(err, ErrMismatch):
		apiError(w, http.StatusUnprocessableEntity, "idempotency_mismatch", err.Error())
		return
	case err != nil:
		apiError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	} else {
		s.log.Info("sms delivered", "id", m.ID, "to", maskPhone(m.To))
	}
	writeJSON(w, http.StatusAccepted, m)
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r, false) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": s.store.List(r.URL.Query().Get("to"))})
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r, false) {
		return
	}
	m, ok := s.store.Get(r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", "no such message")
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// maskPhone keeps the country code and the last three digits, for logs.
func maskPhone(p string) string {
	if len(p) < 7 {
		return "***"
	}
	return p[:3] + strings.Repeat("*", len(p)-6) + p[len(p)-3:]
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>SMS recibidos — simulador</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#1d2733}table{border-collapse:collapse}
td,th{border-bottom:1px solid #d5dbe1;padding:6px 10px;text-align:left;vertical-align:top}th{background:#f3f5f7}</style></head>
<body><h1>SMS recibidos</h1>
<p>Simulador de la pasarela SMS de Andes. Filtrar: <code>/?to=+51987654321</code>. API: <code>GET /v1/messages?to=</code></p>
<table><tr><th>Recibido (UTC)</th><th>Para</th><th>Remitente</th><th>Texto</th><th>Id</th></tr>
{{range .}}<tr><td>{{.ReceivedAt.Format "2006-01-02 15:04:05"}}</td><td>{{.To}}</td><td>{{.Sender}}</td><td>{{.Text}}</td><td>{{.ID}}</td></tr>
{{else}}<tr><td colspan="5">Ningún mensaje todavía.</td></tr>{{end}}
</table></body></html>`))

func (s *Service) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pageTemplate.Execute(w, s.store.List(r.URL.Query().Get("to"))); err != nil {
		s.log.Error("page", "err", err)
	}
}
