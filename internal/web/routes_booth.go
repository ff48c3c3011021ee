package web

import "github.com/veche/veche/internal/identity"

// boothRoutes are the voting booth's page and its WebAssembly module
// (docs/booth.md). The booth talks to the election API
// (/api/v1/elections/…, routes_election.go) with the page's session.
// The module has its own route, more specific than /static/, to be
// served compressed.
func (s *Server) boothRoutes() []route {
	return []route{
		{"GET", "/elections/{id}/booth", needs(identity.PermAccountSelf), s.boothPage},
		{"GET", "/static/booth/booth.wasm", public, s.boothWasm},
	}
}
