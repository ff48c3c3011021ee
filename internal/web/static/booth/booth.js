// veche's voting booth (docs/booth.md): the page's steps around the
// ballot cryptography of booth.wasm (cmd/booth), which encrypts, proves
// and signs the ballot on this device. The choices and the credential
// code stay in this page; only the encrypted, signed ballot (cast) or the
// opened one (checked, and only if the voter publishes it) is sent.
//
// Steps: choose → reviewed → encrypted (tracking code) → cast, or
// checked (Benaloh audit) and back to choose for a new ballot. Every
// step change moves the focus to the step's heading and is said in the
// status line (a live region); problems go to the error summary
// (role=alert), which takes the focus. No inline script, no innerHTML:
// the page's Content-Security-Policy allows neither.
(function () {
  'use strict';

  var root = document.getElementById('booth');
  if (!root) return;
  var messages = JSON.parse(document.getElementById('booth-messages').textContent);
  var cfg = {
    election: root.dataset.election,
    api: root.dataset.api,
    wasm: root.dataset.wasm,
    box: root.dataset.ballotBox,
    lang: root.dataset.lang || 'en'
  };
  var steps = ['booth-choose', 'booth-reviewed', 'booth-encrypted', 'booth-cast-done', 'booth-audited'];
  var state = {
    election: null,   // the election as the API serves it
    manifest: null,   // its manifest
    manifestJSON: '', // the manifest, as passed to the module
    key: '',          // the joint public key
    handle: 0,        // the pending ballot in the module, 0 for none
    tracking: '',     // its tracking code
    ballot: '',       // the cast ballot's JSON, kept to send again after a failure
    audited: '',      // the checked ballot's JSON
    download: ''      // its blob: URL
  };

  function $(id) { return document.getElementById(id); }

  // t is the translated message key with {name} parameters.
  function t(key, params) {
    var s = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    Object.keys(params || {}).forEach(function (k) { s = s.split('{' + k + '}').join(String(params[k])); });
    return s;
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // say puts text in the status line, a polite live region that stays in
  // the page (empty when there is nothing to say) so that every change of
  // it is announced.
  function say(text) {
    var s = $('booth-status');
    s.hidden = false;
    s.textContent = text || '';
    s.className = text ? 'notice' : '';
  }

  // show shows one step and, unless the page has just loaded, moves the
  // focus to its heading.
  function show(step, quiet) {
    steps.forEach(function (id) { $(id).hidden = id !== step; });
    var heading = $(step).querySelector('h2');
    if (heading && !quiet) heading.focus();
  }

  // ---- the error summary ----

  function clearErrors() {
    $('booth-errors').hidden = true;
    $('booth-errors-list').textContent = '';
    document.querySelectorAll('#booth [aria-invalid]').forEach(function (e) { e.removeAttribute('aria-invalid'); });
    document.querySelectorAll('#booth .field.invalid').forEach(function (e) { e.classList.remove('invalid'); });
    document.querySelectorAll('#booth p.error').forEach(function (e) { e.hidden = true; e.textContent = ''; });
  }

  // showErrors lists problems, each {text, target: the id of the field to
  // fix, if any}, in the error summary and moves the focus there.
  function showErrors(problems) {
    var list = $('booth-errors-list');
    list.textContent = '';
    problems.forEach(function (p) {
      var li = el('li');
      if (p.target) {
        // Following the link moves the focus to the field, as the
        // error summaries of the server's pages do.
        li.appendChild(el('a', {href: '#' + p.target}, p.text));
      } else {
        li.textContent = p.text;
      }
      list.appendChild(li);
    });
    say('');
    $('booth-errors').hidden = false;
    $('booth-errors').focus();
  }

  function fail(text) { showErrors([{text: text}]); }

  // ---- talking to the server ----

  function APIError(status, code, message) {
    this.status = status;
    this.code = code || '';
    this.message = message || '';
  }

  // api calls the election API with the page's session cookie. A
  // same-origin fetch passes the cross-origin protection as the page's
  // forms do; writes declare JSON, as the API requires of a cookie session.
  async function api(method, path, body) {
    // Accept-Language: the reasons the API gives (not eligible, not
    // open) come in the page's language, which may be a choice saved on
    // the account rather than the browser's.
    var opts = {method: method, credentials: 'same-origin', headers: {'Accept': 'application/json', 'Accept-Language': cfg.lang}};
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = body;
    }
    var resp;
    try {
      resp = await fetch(cfg.api + path, opts);
    } catch (e) {
      throw new APIError(0, 'network', String(e));
    }
    var data = null;
    try { data = await resp.json(); } catch (e) { /* no JSON body */ }
    if (!resp.ok) {
      var err = data && data.error ? data.error : {};
      throw new APIError(resp.status, err.code, err.message);
    }
    return data || {};
  }

  // apiMessage is what to tell the voter about a refusal of the API.
  function apiMessage(e, fallback) {
    var code = e.code || '';
    if (e.status === 0) return t('error.network');
    if (e.status === 401 || code === 'signin_required') return t('error.signin');
    if (code.indexOf('eligib') >= 0) return t('error.not_eligible');
    if (code.indexOf('closed') >= 0) return t('error.closed');
    if (code.indexOf('not_open') >= 0 || code.indexOf('upcoming') >= 0 || code.indexOf('not_started') >= 0) return t('error.not_open');
    if (code === 'credential_used') return t('error.credential_used');
    if (code === 'credential_other') return t('error.credential_other');
    if (code.indexOf('credential') >= 0) return t('error.credential');
    if (e.status === 404 || code === 'not_found') return t('error.not_found');
    return t(fallback, {reason: e.message || code || String(e.status)});
  }

  // ---- the WebAssembly module ----

  function loadModule() {
    return new Promise(function (resolve, reject) {
      if (typeof WebAssembly !== 'object' || typeof Go !== 'function') {
        reject(new Error('no WebAssembly'));
        return;
      }
      window.vecheBoothReady = function () {
        // For measurements: the time from navigation to a working booth.
        if (window.performance && performance.mark) performance.mark('booth-ready');
        resolve(window.vecheBooth);
      };
      var go = new Go();
      var loading;
      if (WebAssembly.instantiateStreaming) {
        loading = WebAssembly.instantiateStreaming(fetch(cfg.wasm, {credentials: 'same-origin'}), go.importObject);
      } else {
        loading = fetch(cfg.wasm, {credentials: 'same-origin'})
          .then(function (r) { return r.arrayBuffer(); })
          .then(function (b) { return WebAssembly.instantiate(b, go.importObject); });
      }
      loading.then(function (r) { go.run(r.instance); }, reject);
    });
  }

  // ---- dates ----

  function when(iso) {
    try {
      return new Intl.DateTimeFormat(cfg.lang, {year: 'numeric', month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short'}).format(new Date(iso));
    } catch (e) {
      return iso;
    }
  }

  // ---- the contests ----

  function rule(c) {
    if (c.kind === 'yes-no') return t(c.min === 0 ? 'kind.yes_no_or_blank' : 'kind.yes_no');
    if (c.kind === 'choose-one') return t(c.min === 0 ? 'kind.one_or_blank' : 'kind.one');
    if (c.min === 0) return t('kind.up_to', {max: c.max});
    if (c.min === c.max) return t('kind.exactly', {max: c.max});
    return t('kind.between', {min: c.min, max: c.max});
  }

  function multiple(c) { return c.kind === 'choose-up-to'; }

  function inputs(i) { return Array.prototype.slice.call(document.querySelectorAll('input[name="contest-' + i + '"]')); }

  function chosen(i) {
    return inputs(i).filter(function (e) { return e.checked && e.value !== ''; }).map(function (e) { return e.value; });
  }

  function updateCount(i) {
    var c = state.manifest.contests[i];
    var out = $('contest-' + i + '-count');
    if (out) out.textContent = t('count', {count: chosen(i).length, max: c.max});
  }

  function renderContests() {
    var box = $('booth-contests');
    box.textContent = '';
    state.manifest.contests.forEach(function (c, i) {
      var id = 'contest-' + i;
      var fs = el('fieldset', {'class': 'field', id: id, 'aria-describedby': id + '-hint' + (multiple(c) ? ' ' + id + '-count' : '')});
      fs.appendChild(el('legend', {}, c.title));
      fs.appendChild(el('p', {'class': 'hint', id: id + '-hint'}, rule(c)));
      var err = el('p', {'class': 'error', id: id + '-error'});
      err.hidden = true;
      fs.appendChild(err);
      var options = c.options.map(function (o) { return {value: o.id, title: o.title}; });
      if (!multiple(c) && c.min === 0) options.push({value: '', title: t('blank')});
      options.forEach(function (o, j) {
        var row = el('div');
        var input = el('input', {type: multiple(c) ? 'checkbox' : 'radio', name: id, id: id + '-' + j, value: o.value});
        row.appendChild(input);
        row.appendChild(el('label', {'for': id + '-' + j}, o.title));
        fs.appendChild(row);
        if (multiple(c)) {
          input.addEventListener('change', function () {
            if (input.checked && chosen(i).length > c.max) {
              // The limit, enforced and said: the box does not stay ticked.
              input.checked = false;
              $(id + '-count').textContent = t('limit', {max: c.max, contest: c.title, option: o.title});
              return;
            }
            updateCount(i);
          });
        }
      });
      if (multiple(c)) fs.appendChild(el('p', {'class': 'hint', id: id + '-count', 'aria-live': 'polite'}));
      box.appendChild(fs);
      updateCount(i);
    });
  }

  function choices() {
    var out = {};
    state.manifest.contests.forEach(function (c, i) { out[c.id] = chosen(i); });
    return out;
  }

  // ---- steps ----

  function credentialCode() { return $('credential').value.trim(); }

  function fieldError(field, input, id, text) {
    var p = $(id);
    p.textContent = text;
    p.hidden = false;
    $(field).classList.add('invalid');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
    }
  }

  function credentialProblem() {
    var code = credentialCode();
    var bare = code.replace(/[\s-]/g, '');
    if (bare === '') return t('error.credential.empty');
    if (bare.length !== 16) return t('error.credential.length', {count: bare.length});
    var r = window.vecheBooth.checkCredential(state.manifest.id, code);
    if (r.error) return t('error.credential.invalid');
    return '';
  }

  function markCredential(text) {
    fieldError('credential-field', $('credential'), 'credential-error', text);
    $('credential').setAttribute('aria-describedby', 'credential-error credential-hint credential-private');
  }

  function review(ev) {
    ev.preventDefault();
    clearErrors();
    $('credential').setAttribute('aria-describedby', 'credential-hint credential-private');
    var problems = [];
    state.manifest.contests.forEach(function (c, i) {
      var n = chosen(i).length;
      var text = '';
      if (n < c.min) text = c.max === 1 ? t('error.choose.one', {contest: c.title}) : t('error.choose.min', {min: c.min, contest: c.title});
      else if (n > c.max) text = t('error.choose.max', {max: c.max, contest: c.title});
      if (text) {
        fieldError('contest-' + i, null, 'contest-' + i + '-error', text);
        inputs(i).forEach(function (e) { e.setAttribute('aria-invalid', 'true'); });
        problems.push({text: text, target: 'contest-' + i + '-0'});
      }
    });
    var cred = credentialProblem();
    if (cred) {
      markCredential(cred);
      problems.push({text: cred, target: 'credential'});
    }
    if (problems.length) {
      showErrors(problems);
      return;
    }
    var list = $('booth-review-list');
    list.textContent = '';
    state.manifest.contests.forEach(function (c, i) {
      list.appendChild(el('dt', {}, c.title));
      var picked = chosen(i);
      var titles = c.options.filter(function (o) { return picked.indexOf(o.id) >= 0; }).map(function (o) { return o.title; });
      list.appendChild(el('dd', {}, titles.length ? titles.join(', ') : t('review.blank')));
    });
    say('');
    show('booth-reviewed');
  }

  // afterPaint runs fn once the page has drawn what was just changed (the
  // status line), since the encryption holds the page's thread.
  function afterPaint(fn) {
    requestAnimationFrame(function () { setTimeout(fn, 0); });
  }

  function encrypt() {
    clearErrors();
    var button = $('booth-encrypt');
    button.disabled = true;
    say(t('encrypting'));
    afterPaint(function () {
      var r = window.vecheBooth.encrypt(state.manifestJSON, state.key, credentialCode(), JSON.stringify(choices()));
      button.disabled = false;
      if (r.error) {
        if (r.error === 'credential') {
          show('booth-choose');
          markCredential(t('error.credential.invalid'));
          showErrors([{text: t('error.credential.invalid'), target: 'credential'}]);
          return;
        }
        fail(t('error.internal', {reason: r.message}));
        return;
      }
      state.handle = r.handle;
      state.tracking = r.trackingCode;
      state.ballot = '';
      $('booth-tracking').textContent = r.trackingCode;
      $('booth-cast').disabled = false;
      $('booth-audit').disabled = false;
      show('booth-encrypted');
      say(t('encrypted', {code: r.trackingCode}));
    });
  }

  async function cast() {
    clearErrors();
    if (!state.ballot) {
      var r = window.vecheBooth.cast(state.handle);
      if (r.error) {
        fail(t('error.internal', {reason: r.message}));
        return;
      }
      state.handle = 0;
      state.ballot = r.ballot;
      // The ballot's randomness is gone: it can no longer be checked.
      $('booth-audit').disabled = true;
    }
    $('booth-cast').disabled = true;
    say(t('casting'));
    var answer;
    try {
      answer = await api('POST', '/ballots', state.ballot);
      if (answer.tracking_code && answer.tracking_code !== state.tracking) {
        throw new APIError(200, 'tracking_code', 'the ballot box answered with tracking code ' + answer.tracking_code + ', not ' + state.tracking);
      }
    } catch (e) {
      $('booth-cast').disabled = false;
      if (e.code && e.code.indexOf('credential') >= 0) {
        // A credential the ballot box does not take (not published, used
        // by someone else, not the one this voter voted with before):
        // type the right one and make a new ballot.
        var text = apiMessage(e, 'error.refused');
        state.ballot = '';
        $('booth-audit').disabled = false;
        show('booth-choose');
        markCredential(text);
        showErrors([{text: text, target: 'credential'}]);
        return;
      }
      fail(apiMessage(e, 'error.refused'));
      return;
    }
    state.ballot = '';
    $('booth-cast-tracking').textContent = state.tracking;
    $('booth-cast-replaced').hidden = !answer.replaced;
    $('booth-ballot-box').href = cfg.box + '?tracking_code=' + encodeURIComponent(state.tracking);
    show('booth-cast-done');
    say(t('cast', {code: state.tracking}));
  }

  function audit() {
    clearErrors();
    var r = window.vecheBooth.audit(state.handle);
    if (r.error) {
      fail(t('error.internal', {reason: r.message}));
      return;
    }
    state.handle = 0;
    state.audited = r.audited;
    // The booth opens what it made, by the same rules as any verifier.
    var check = window.vecheBooth.checkAudit(state.manifestJSON, state.key, r.audited);
    if (check.error) {
      fail(t('error.internal', {reason: check.message}));
      return;
    }
    var list = $('booth-audited-list');
    list.textContent = '';
    state.manifest.contests.forEach(function (c) {
      list.appendChild(el('dt', {}, c.title));
      var picked = check.choices[c.id] || [];
      var titles = c.options.filter(function (o) { return picked.indexOf(o.id) >= 0; }).map(function (o) { return o.title; });
      list.appendChild(el('dd', {}, titles.length ? titles.join(', ') : t('review.blank')));
    });
    $('booth-audited-tracking').textContent = r.trackingCode;
    $('booth-audited-json').value = r.audited;
    if (state.download) URL.revokeObjectURL(state.download);
    state.download = URL.createObjectURL(new Blob([r.audited], {type: 'application/json'}));
    var link = $('booth-audited-download');
    link.href = state.download;
    var file = 'audited-ballot-' + r.trackingCode + '.json';
    link.setAttribute('download', file);
    $('booth-audited-command').textContent = 'veche verify-election --ballot ' + file + ' --record record.zip';
    $('booth-publish').disabled = false;
    show('booth-audited');
    say(t('audited'));
  }

  async function publish() {
    clearErrors();
    var button = $('booth-publish');
    button.disabled = true;
    say(t('publishing'));
    try {
      await api('POST', '/audits', state.audited);
    } catch (e) {
      button.disabled = false;
      fail(apiMessage(e, 'error.publish'));
      return;
    }
    say(t('published'));
  }

  function newBallot() {
    clearErrors();
    show('booth-choose');
    say(t('new'));
  }

  function change() {
    clearErrors();
    show('booth-choose');
    say('');
  }

  // credentialFromLink fills the credential from a link ending in
  // #credential=CODE, which the browser keeps to itself, then removes it
  // from the address bar and history.
  function credentialFromLink() {
    var m = /^#credential=([^&]*)/.exec(location.hash);
    if (!m) return;
    var code = '';
    try { code = decodeURIComponent(m[1]); } catch (e) { return; }
    $('credential').value = code;
    $('credential-from-link').hidden = false;
    $('credential').setAttribute('aria-describedby', 'credential-hint credential-private credential-from-link');
    history.replaceState(null, '', location.pathname + location.search);
  }

  async function start() {
    say(t('loading'));
    var module = loadModule();
    var election;
    try {
      election = await api('GET', '');
    } catch (e) {
      module.catch(function () {});
      fail(apiMessage(e, 'error.internal'));
      return;
    }
    try {
      await module;
    } catch (e) {
      fail(t('error.wasm'));
      return;
    }
    state.election = election;
    state.manifest = election.manifest;
    state.key = election.joint_key;
    state.manifestJSON = JSON.stringify(election.manifest);
    $('booth-election-title').textContent = election.title || election.manifest.title;
    var whenText;
    switch (election.state) {
      case 'open': whenText = t('when.open', {closes: when(election.closes_at)}); break;
      case 'scheduled': case 'ready': whenText = t('when.upcoming', {opens: when(election.opens_at)}); break;
      case 'closed': case 'tallied': case 'published': whenText = t('when.closed', {closes: when(election.closes_at)}); break;
      default: whenText = t('when.other');
    }
    $('booth-election-when').textContent = whenText;
    var form = $('booth-form');
    if (election.state !== 'open') {
      form.hidden = true;
      show('booth-choose', true);
      say(whenText);
      return;
    }
    if (!election.eligible) {
      form.hidden = true;
      show('booth-choose', true);
      // The API's reason, in the page's language, says why and what to do.
      fail(election.reason || t('error.not_eligible'));
      return;
    }
    try {
      renderContests();
    } catch (e) {
      fail(t('error.unreadable', {reason: String(e)}));
      return;
    }
    credentialFromLink();
    form.addEventListener('submit', review);
    $('booth-encrypt').addEventListener('click', encrypt);
    $('booth-change').addEventListener('click', change);
    $('booth-cast').addEventListener('click', cast);
    $('booth-audit').addEventListener('click', audit);
    $('booth-publish').addEventListener('click', publish);
    $('booth-new').addEventListener('click', newBallot);
    show('booth-choose', true);
    say(t('ready'));
  }

  start();
})();
