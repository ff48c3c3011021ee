package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/veche/veche/internal/i18n"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/participation/markdown"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/validate"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// pages holds each page template parsed together with the layout.
type pages struct {
	byName map[string]*template.Template
}

var templateFuncs = template.FuncMap{
	"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"md":       markdown.HTML,
	"spaceURL": spaceURL,
}

func loadPages() (*pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || base == "partials" || base == "feedback" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", "templates/feedback.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		p.byName[base] = t
	}
	return p, nil
}

// view is what every page template receives.
type view struct {
	Lang      i18n.Lang
	Langs     []i18n.Lang
	LangNames map[i18n.Lang]string
	Principal *identity.Principal
	CSRF      string
	Path      string
	Form      url.Values      // values to show again (never passwords)
	Errors    validate.Errors // field problems
	Notice    string          // a one-line status message (already translated)
	Data      map[string]any
	s         *Server
}

// T translates key with {name} parameters given as name, value pairs.
func (v *view) T(key string, kv ...any) string { return i18n.T(v.Lang, key, kv...) }

// FieldError returns the translated problem with field, or "".
func (v *view) FieldError(field string) string {
	fe, ok := v.Errors.Field(field)
	if !ok {
		return ""
	}
	return fieldMessage(v.Lang, fe)
}

// Value returns what the person typed into field, to show it again.
func (v *view) Value(field string) string { return v.Form.Get(field) }

// Retention says a retention rule in words.
func (v *view) Retention(r privacy.Retention) string { return r.Record().Words(v.T) }

// RetentionJSON says a retention rule of the processing record in words.
func (v *view) RetentionJSON(r privacy.RetentionJSON) string { return r.Words(v.T) }

// AccessPurposes are the reasons staff can give for opening a person's data.
func (v *view) AccessPurposes() []privacy.AccessPurpose { return privacy.AccessPurposes }

// Can reports whether the viewer holds perm, for showing navigation.
func (v *view) Can(perm string) bool { return v.Principal.Can(identity.Permission(perm)) }

func fieldMessage(lang i18n.Lang, fe validate.FieldError) string {
	kv := []any{"field", i18n.T(lang, "field."+fieldLabelKey(fe.Field))}
	for k, val := range fe.Params {
		kv = append(kv, k, val)
	}
	return i18n.T(lang, "error.field."+fe.Code, kv...)
}

// fieldLabelKey names a field's label in the catalog: a field of a
// repeated group ("phases.2.name") uses the group's label ("phases.name").
func fieldLabelKey(field string) string {
	parts := strings.Split(field, ".")
	out := parts[:0]
	for _, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ".")
}

// render writes page name with data. Pages are rendered to a buffer first
// so a template error never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, name string, data map[string]any) {
	s.renderForm(w, r, c, status, name, data, nil, nil)
}

// renderForm renders a page that holds a form, with the values to show
// again and the problems found.
func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, name string, data map[string]any, form url.Values, errs validate.Errors) {
	t, ok := s.pages.byName[name]
	if !ok {
		s.Logger.Error("web: no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v := &view{Lang: c.lang, Langs: i18n.Langs, LangNames: i18n.Names, Principal: c.principal, CSRF: s.formToken(c),
		Path: r.URL.RequestURI(), Form: form, Errors: errs, Data: data, s: s}
	if v.Form == nil {
		v.Form = url.Values{}
	}
	if n, ok := data["Notice"].(string); ok {
		v.Notice = n
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		s.Logger.Error("web: render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// safeNext keeps a post-sign-in destination on this site: a path starting
// with one slash, never //host or a scheme.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/account"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/account"
	}
	return next
}

// withoutPasswords copies a form without password fields, so a page shown
// again never echoes a password.
func withoutPasswords(form url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		if strings.Contains(k, "password") || k == "csrf" || k == "code" {
			continue
		}
		out[k] = v
	}
	return out
}
