package browsertest

import (
	"context"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// findJS finds an element the way a person names it and prepares it for
// an action. kind is "field" (by label text, then id, then name or
// aria-label) or "control" (a link, button or other control by its
// accessible name, roughly: aria-label, text, value or label). Elements
// inside <main> win over those outside (the header's "Sign in" link against
// the form's "Sign in" button); more than one left is an error.
const findJS = `(function(kind, q, act, value) {
  function norm(s) { return (s || '').replace(/\s+/g, ' ').trim(); }
  function shown(e) {
    if (e.type === 'hidden') return false;
    var r = e.getClientRects();
    return r.length > 0 && getComputedStyle(e).visibility !== 'hidden';
  }
  function byIds(ids) {
    return norm(ids.split(/\s+/).map(function(id) { var e = document.getElementById(id); return e ? e.innerText || e.textContent : ''; }).join(' '));
  }
  function name(e) {
    if (e.getAttribute('aria-labelledby')) return byIds(e.getAttribute('aria-labelledby'));
    if (e.getAttribute('aria-label')) return norm(e.getAttribute('aria-label'));
    if ((e.type === 'checkbox' || e.type === 'radio') && e.labels && e.labels.length) return norm(e.labels[0].innerText || e.labels[0].textContent);
    if (e.tagName === 'INPUT') return norm(e.value);
    return norm(e.innerText || e.textContent);
  }
  var found = [];
  if (kind === 'field') {
    document.querySelectorAll('label').forEach(function(l) {
      if (norm(l.innerText || l.textContent) === q && l.control) found.push(l.control);
    });
    if (!found.length) {
      var e = document.getElementById(q);
      if (e && /^(INPUT|SELECT|TEXTAREA)$/.test(e.tagName)) found.push(e);
    }
    if (!found.length) document.querySelectorAll('input, select, textarea').forEach(function(e) {
      if (e.name === q || e.getAttribute('aria-label') === q) found.push(e);
    });
  } else if (kind === 'css') {
    found = Array.prototype.slice.call(document.querySelectorAll(q), 0, 1);
  } else {
    document.querySelectorAll('a[href], button, input[type=submit], input[type=button], input[type=checkbox], input[type=radio], [role=button], [role=link], summary').forEach(function(e) {
      if (name(e) === q) found.push(e);
    });
  }
  found = found.filter(shown);
  var what = kind === 'field' ? 'field' : kind === 'css' ? 'element' : 'link or button';
  if (!found.length) {
    var names = [];
    var sel = kind === 'field' ? 'label' : 'a[href], button, input[type=submit], input[type=button], input[type=checkbox], input[type=radio], [role=button], summary';
    document.querySelectorAll(sel).forEach(function(e) { var n = kind === 'field' ? norm(e.innerText || e.textContent) : name(e); if (n) names.push(JSON.stringify(n)); });
    return {err: 'no visible ' + what + ' ' + JSON.stringify(q) + (names.length ? '; the page has: ' + names.join(', ') : '')};
  }
  var inMain = found.filter(function(e) { return !!e.closest('main'); });
  if (inMain.length) found = inMain;
  if (found.length > 1) return {err: found.length + ' ' + what + 's match ' + JSON.stringify(q) + '; name it by id or CSS selector'};
  var el = found[0];
  if (act === 'fill') {
    if (el.disabled || el.readOnly) return {err: what + ' ' + JSON.stringify(q) + ' is not editable'};
    if (el.tagName === 'SELECT') {
      var opt = Array.prototype.find.call(el.options, function(o) { return norm(o.text) === value || o.value === value; });
      if (!opt) return {err: 'no option ' + JSON.stringify(value) + ' in ' + JSON.stringify(q)};
      el.focus();
      el.value = opt.value;
      el.dispatchEvent(new Event('input', {bubbles: true}));
      el.dispatchEvent(new Event('change', {bubbles: true}));
      return {done: true};
    }
    if (el.type === 'checkbox' || el.type === 'radio') return {err: JSON.stringify(q) + ' is a ' + el.type + '; use Check'};
    el.focus();
    el.value = '';
    el.dispatchEvent(new Event('input', {bubbles: true}));
    return {};
  }
  if (act === 'focus') { el.focus(); return {done: true}; }
  el.scrollIntoView({block: 'center', inline: 'center'});
  var r = el.getBoundingClientRect();
  var x = r.left + r.width / 2, y = r.top + r.height / 2;
  var hit = document.elementFromPoint(x, y);
  if (hit !== el && !el.contains(hit) && !(hit && hit.control === el) && !(el.labels && Array.prototype.indexOf.call(el.labels, hit) >= 0)) {
    return {err: what + ' ' + JSON.stringify(q) + ' is covered by ' + (hit ? hit.outerHTML.slice(0, 200) : 'nothing') + ' at its centre'};
  }
  return {x: x, y: y};
})`

type found struct {
	Err  string  `json:"err"`
	Done bool    `json:"done"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
}

func (p *Page) find(kind, q, act, value string) found {
	p.t.Helper()
	f := Eval[found](p, fmt.Sprintf("%s(%s, %s, %s, %s)", findJS, jsString(kind), jsString(q), jsString(act), jsString(value)))
	if f.Err != "" {
		p.fatalf("%s", f.Err)
	}
	return f
}

// Fill types value into the field named by its label's text, its id or
// its name, replacing what it held, as a person would: focus, then key
// presses. A select takes the option's text or value.
func (p *Page) Fill(field, value string) {
	p.t.Helper()
	if f := p.find("field", field, "fill", value); f.Done {
		return
	}
	p.Type(value)
}

// Focus moves the keyboard focus to the field named as for Fill.
func (p *Page) Focus(field string) {
	p.t.Helper()
	p.find("field", field, "focus", "")
}

// Click clicks, with the mouse at its centre, the link or button whose
// accessible name (text, aria-label, value) is name, and waits for the page
// it leads to (or the in-page target of a #fragment link). It returns the
// new document's HTTP status.
func (p *Page) Click(name string) int {
	p.t.Helper()
	f := p.find("control", name, "click", "")
	return p.clickAt(name, f, true)
}

// ClickCSS is Click for the first element matching a CSS selector.
func (p *Page) ClickCSS(selector string) int {
	p.t.Helper()
	f := p.find("css", selector, "click", "")
	return p.clickAt(selector, f, true)
}

// Check clicks a checkbox or radio button named by its label, staying on
// the page.
func (p *Page) Check(label string) {
	p.t.Helper()
	f := p.find("control", label, "click", "")
	p.clickAt(label, f, false)
}

func (p *Page) clickAt(what string, f found, wait bool) int {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	click := chromedp.MouseClickXY(f.X, f.Y)
	if !wait {
		if err := chromedp.Do(ctx, click); err != nil {
			p.fatalf("click %q: %v", what, err)
		}
		return p.status
	}
	resp, err := chromedp.RunResponse(ctx, click)
	if err != nil {
		p.fatalf("click %q and wait for the next page: %v", what, err)
	}
	if resp != nil { // nil after an in-page (#fragment) move
		p.status = int(resp.Status)
	}
	return p.status
}

// keyNames are the keys Press knows by name.
var keyNames = map[string]string{
	"Tab": kb.Tab, "Enter": kb.Enter, "Space": " ", "Escape": kb.Escape, "Backspace": kb.Backspace,
	"ArrowUp": kb.ArrowUp, "ArrowDown": kb.ArrowDown, "ArrowLeft": kb.ArrowLeft, "ArrowRight": kb.ArrowRight,
	"Home": kb.Home, "End": kb.End,
}

func (p *Page) keyAction(key string) chromedp.Action[chromedp.Void] {
	p.t.Helper()
	var mods int64
	name := key
	if rest, ok := strings.CutPrefix(key, "Shift+"); ok {
		mods = int64(chromedp.ModifierShift)
		name = rest
	}
	k, ok := keyNames[name]
	if !ok {
		p.fatalf("unknown key %q (use Type for text)", key)
	}
	v := kb.Keys[[]rune(k)[0]]
	// One keyDown carrying the key's text, then a keyUp, as a keyboard
	// sends them (and Puppeteer does). A separate char event, which
	// chromedp.KeyEvent adds, would reach the element that the keyDown
	// moved the focus to: Enter on an error summary link would then
	// submit the form the link leads into.
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: v.Key, Code: v.Code,
		NativeVirtualKeyCode: v.Native, WindowsVirtualKeyCode: v.Windows, Modifiers: mods}
	if v.Print {
		down.Text, down.UnmodifiedText = v.Text, v.Unmodified
	}
	up := down
	up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, ev := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// Press presses keys one after another on whatever has the focus: "Tab",
// "Shift+Tab", "Enter", "Space", "Escape", "Backspace", the arrows, "Home",
// "End". It does not wait for a page load; see PressAndWait.
func (p *Page) Press(keys ...string) {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	for _, k := range keys {
		if err := chromedp.Do(ctx, p.keyAction(k)); err != nil {
			p.fatalf("press %s: %v", k, err)
		}
	}
}

// PressAndWait presses key (e.g. "Enter" on a link or submit button) and
// waits for the page it leads to; it returns that page's HTTP status.
func (p *Page) PressAndWait(key string) int {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, p.keyAction(key))
	if err != nil {
		p.fatalf("press %s and wait for the next page: %v", key, err)
	}
	if resp != nil {
		p.status = int(resp.Status)
	}
	return p.status
}

// Type types text, key by key, into whatever has the focus.
func (p *Page) Type(text string) {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(text)); err != nil {
		p.fatalf("type %q: %v", text, err)
	}
}

// Focus describes the element that has the keyboard focus.
type Focus struct {
	Tag  string `json:"tag"`  // lower-case element name; "body" when nothing has the focus
	ID   string `json:"id"`   // id attribute
	Name string `json:"name"` // accessible name, roughly: label, aria-label, text or value
	Href string `json:"href"` // a link's href attribute
	Type string `json:"type"` // an input's or button's type
	// Visible says a focus indicator is drawn: an outline or a box shadow
	// on the element (WCAG 2.4.7).
	Visible bool   `json:"visible"`
	Outline string `json:"outline"` // the computed outline, for messages
	// InView says the element is at least partly inside the viewport and
	// not hidden off-screen (WCAG 2.4.11, focus not obscured).
	InView bool `json:"inView"`
}

func (f Focus) String() string {
	s := "<" + f.Tag
	if f.ID != "" {
		s += " id=" + f.ID
	}
	if f.Href != "" {
		s += " href=" + f.Href
	}
	return s + "> " + fmt.Sprintf("%q", f.Name)
}

const focusJS = `(function() {
  var e = document.activeElement || document.body || document.documentElement;
  function norm(s) { return (s || '').replace(/\s+/g, ' ').trim(); }
  var name = e.getAttribute('aria-label') || (e.labels && e.labels.length ? e.labels[0].innerText : '') ||
    (e.tagName === 'INPUT' ? e.value : e.innerText || e.textContent);
  var cs = getComputedStyle(e);
  var outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
  var shadow = cs.boxShadow && cs.boxShadow !== 'none';
  var r = e.getBoundingClientRect();
  var inView = r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
  return {tag: e.tagName.toLowerCase(), id: e.id || '', name: norm(name).slice(0, 200), href: e.getAttribute('href') || '',
    type: e.getAttribute('type') || '', visible: e !== document.body && e !== document.documentElement && (outline || shadow),
    outline: cs.outlineStyle + ' ' + cs.outlineWidth + ' ' + cs.outlineColor, inView: inView};
})()`

// Focused describes the element that has the keyboard focus now.
func (p *Page) Focused() Focus {
	p.t.Helper()
	return Eval[Focus](p, focusJS)
}

// TabTo presses Tab until the focus reaches the element whose accessible
// name is name (or whose id is "#id"), failing after limit presses; it
// returns the number of presses. Keyboard-only flows use it to reach each
// control as a person would.
func (p *Page) TabTo(name string, limit int) int {
	p.t.Helper()
	var seen []string
	for i := 1; i <= limit; i++ {
		p.Press("Tab")
		f := p.Focused()
		if f.Name == name || (strings.HasPrefix(name, "#") && f.ID == name[1:]) {
			return i
		}
		seen = append(seen, f.String())
	}
	p.fatalf("Tab did not reach %q in %d presses; it went through:\n  %s", name, limit, strings.Join(seen, "\n  "))
	return 0
}

// Upload chooses files for the file input with the given id, as a person
// picking them in the file dialog would.
func (p *Page) Upload(id string, files ...string) {
	p.t.Helper()
	ctx, cancel := p.timeout()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID(id), files)); err != nil {
		p.fatalf("upload %v into #%s: %v", files, id, err)
	}
}
