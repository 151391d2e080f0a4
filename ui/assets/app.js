// The taxpayer screen of the PKB kiosk: a guided, touch-first flow
// (welcome -> plate -> chassis digits -> result -> print or finish). Plain
// JS, no build step, no modules: it runs in WebKitGTK (the kiosk's webview)
// and in Chromium (the end-to-end tests).
//
// The page holds no rule of its own: the agent normalises plates
// (POST /api/plate), looks them up (POST /api/lookup), prints, and sends
// its state as server-sent events (GET /api/events). Every text shown
// comes from the catalogues (/i18n/<lang>.json) or from the agent (the
// content pages, the office's maintenance message), always set with
// textContent, never as markup. The chassis digits (rangka5) are sent
// once and never shown back. Nothing is kept in the browser beyond the
// page's own memory: no web storage, no cookies, no history entries.
//
// DOM contract (the end-to-end tests drive exactly this; keep it stable)
//
//   document.documentElement.dataset.ready = "1"  config and both
//       catalogues loaded, first screen shown.
//   document.documentElement.lang  "id" or "en", the current language.
//   document.body.dataset.screen  the visible screen: welcome, plate,
//       rangka, result, unavailable, help, info, maintenance. Only that
//       screen's <section data-screen> is displayed.
//   document.body.dataset.page  the id of the page on the info screen.
//   document.body.dataset.lookupMs / lookupSource  set when a lookup
//       succeeded and the result was painted (the task queued from the
//       animation frame that drew it): milliseconds since #search (or #plate-next when
//       the chassis step is off) was activated, and live|cache. Removed
//       when a new lookup starts and on reset.
//
//   Always: #lang-toggle (id <-> en).
//   Shared buttons, moved into the visible screen (one element each):
//     #back       help, info, plate, rangka (Escape does the same)
//     #help-open  welcome, plate
//     #finish     result, unavailable (ends the session, to welcome)
//     #keyboard   plate, rangka: button[data-key="A".."Z","0".."9",
//                 "BACKSPACE","CLEAR"] types into the screen's field.
//   welcome: #start (POST /api/session, to plate), #offline-note,
//     #info-open-<pageid> for each content page but "help" (also on help).
//   plate: #region (the region code, default config.region, sent as
//     "<region> <typed>"; tap it for #region-picker with
//     button[data-region="<code>"], data-region="" drops the region; so
//     does BACKSPACE on an empty field; typed text that starts with a
//     letter is taken as the whole plate and #region is hidden), <input
//     id="plate">, #plate-preview (the canonical plate when valid),
//     #plate-error (catalogue message, data-reason), #plate-suggestion
//     (NEED_REGION only: adopts the suggestion), #message (data-code:
//     not_found, rate_limited, ...), #plate-next (disabled until the
//     preview is a valid plate; looks up at once when the chassis step is
//     off).
//   rangka: #stnk-picture, <input id="rangka"> (5 of A-Z0-9, masked),
//     #rangka-count, #rangka-error (data-code), #search (POST /api/lookup).
//   #busy while a lookup runs (buttons disabled); after client_timeout_s
//     the unavailable screen.
//   result: #result with #result-plate, #result-merk, #result-tipe,
//     #result-tahun, #result-warna, #result-tnkb, #result-due-pkb,
//     #result-due-stnk, #result-status, #items with tbody #items-body rows
//     tr[data-item="pkb|opsen_pkb|swdkllj|pnbp_stnk|pnbp_tnkb"] and, when
//     they apply, "potongan" and "program"; #jumlah, #data-per,
//     #not-receipt, #how-to-pay with #info-open-pembayaran; created only
//     when they apply: #blocked-notice, #estimate-banner, #demo-badge,
//     #cache-age, #stale. #print (disabled with #print-reason when the
//     printer cannot print), #print-status (data-state), #again (another
//     plate, same session), #finish.
//   unavailable: #unavailable-message (data-code), #retry, #finish.
//   help: #help-title, #help-body, #help-updated; info: #info-title,
//     #info-body, #info-updated ("diperbarui DD-MM-YYYY").
//   maintenance: #maintenance-message (the office's text, or the
//     catalogue's default).
//   #countdown (idle warning) with #countdown-seconds and
//     #countdown-continue.
'use strict';

(function () {
  // ---- Settings -------------------------------------------------------

  const DEFAULT_CONFIG = {
    idle_s: 60, countdown_s: 15, ping_s: 5, client_timeout_s: 8, require_rangka5: true, region: 'BA'
  };
  const PREVIEW_DEBOUNCE_MS = 120;
  const PREVIEW_TIMEOUT_MS = 3000;
  const SHORT_TIMEOUT_MS = 4000;
  const LOAD_RETRY_MS = 2000;
  const CONTENT_RETRY_MS = 15000;
  const CONTENT_WAIT_MS = 3000;
  const EVENTS_RETRY_MS = 5000;
  const STATUS_POLL_MS = 5000;
  const PRINT_POLL_MS = 500;
  const PRINT_GIVE_UP_MS = 120000;
  const WIB_OFFSET_MS = 7 * 3600 * 1000; // Asia/Jakarta, no DST
  const DEFAULT_LANG = 'id';
  const LANGS = ['id', 'en'];
  const PAGE_HELP = 'help';
  const PAGE_PAYMENT = 'pembayaran';
  // Region codes offered by the picker: Sumatra and Jakarta. A choice,
  // not a rule: the agent judges every plate.
  const REGIONS = ['BA', 'BB', 'BK', 'BL', 'BM', 'BP', 'BG', 'BN', 'BE', 'BD', 'BH', 'B'];
  const SHARED = ['back', 'help-open', 'finish', 'keyboard'];
  const IDLE_FREE = ['welcome', 'maintenance']; // no countdown there

  // ---- State ----------------------------------------------------------

  // app is the kiosk's state, kept across taxpayers; s is the taxpayer's,
  // replaced as a whole by reset().
  const app = {
    ready: false,
    config: Object.assign({}, DEFAULT_CONFIG),
    catalogues: {},      // lang -> {key: text}
    content: {},         // lang -> LocalContent
    status: null,        // the last status snapshot
    maint: { on: false, message: '' },
    maintKnown: false,   // a maintenance event arrived: it rules
    gen: 0,              // bumped by reset: late answers are dropped
    pingTimer: 0,
    statusPoll: 0,
    contentRetry: 0
  };

  function freshState() {
    return {
      lang: DEFAULT_LANG,
      screen: 'welcome',
      page: '',
      returnTo: [],
      region: app.config.region,
      preview: null,        // reply of /api/plate for the field as it is
      previewTimer: 0,
      previewSeq: 0,
      session: null,        // promise of POST /api/session
      sessionStarted: false,
      message: null,        // error of the last lookup shown on the plate screen
      rangkaError: null,    // {code} shown on the rangka screen
      rangka5: '',          // between #search and the answer (and for #retry)
      lookupPlate: '',
      unavailable: '',      // timeout | network | source_unavailable
      answer: null,         // reply of a successful lookup
      busy: false,
      lookupSeq: 0,
      print: { state: '' }, // sending|queued|printing|done|failed|error
      idleTimer: 0,
      countdownTimer: 0,
      countdownEnd: 0,
      counting: false,
      pickerOpen: false
    };
  }

  let s = freshState();

  function $(id) { return document.getElementById(id); }

  // ---- Catalogue ------------------------------------------------------

  function catalogue() { return app.catalogues[s.lang] || app.catalogues[DEFAULT_LANG] || {}; }

  // fill substitutes {name} placeholders; it returns null when one has no
  // value, so that the caller can fall back to a less specific message.
  function fill(tmpl, vars) {
    let ok = true;
    const out = tmpl.replace(/\{([a-z_]+)\}/g, function (m, name) {
      const v = vars && vars[name] !== undefined && vars[name] !== null ? String(vars[name]) : '';
      if (v === '') ok = false;
      return v;
    });
    return ok ? out : null;
  }

  function t(key, vars) {
    const tmpl = catalogue()[key];
    if (tmpl === undefined) return '';
    const out = fill(tmpl, vars);
    return out === null ? '' : out;
  }

  // errorKeys mirrors ui/i18n.go errorKeys: most specific first.
  function errorKeys(err) {
    const keys = [];
    if (err.code === 'invalid_plate' && err.reason) keys.push('err.invalid_plate.' + err.reason);
    keys.push('err.' + err.code);
    return keys;
  }

  // errorText renders an error in the current language from the
  // catalogue, so that a language switch re-renders it too.
  function errorText(err) {
    const vars = { suggestion: err.suggestion, province: err.province };
    const cat = catalogue();
    for (const key of errorKeys(err)) {
      if (cat[key] === undefined) continue;
      const out = fill(cat[key], vars);
      if (out !== null) return out;
    }
    return t('err.internal');
  }

  function errorTitle(err) {
    return t('msg.title.' + err.code) || t('msg.title.error');
  }

  // ---- HTTP -----------------------------------------------------------

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // api calls the agent. It resolves to {status, data} (data null when
  // the body is not JSON) and rejects on a network failure or timeout
  // (an AbortError).
  async function api(method, path, body, timeoutMs) {
    const ctrl = new AbortController();
    const timer = setTimeout(function () { ctrl.abort(); }, timeoutMs);
    const init = { method: method, headers: { 'X-Kiosk-Lang': s.lang }, signal: ctrl.signal, cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    try {
      const resp = await fetch(path, init);
      const text = await resp.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      return { status: resp.status, data: data };
    } finally {
      clearTimeout(timer);
    }
  }

  // getRetrying fetches a JSON document until it gets one: the agent may
  // still be starting when the webview loads the page.
  async function getRetrying(path) {
    for (;;) {
      try {
        const res = await api('GET', path, undefined, SHORT_TIMEOUT_MS);
        if (res.status === 200 && res.data && typeof res.data === 'object') return res.data;
      } catch (e) { /* agent restarting: retry */ }
      await sleep(LOAD_RETRY_MS);
    }
  }

  async function loadConfig() {
    const c = await getRetrying('/api/ui/config');
    const cfg = Object.assign({}, DEFAULT_CONFIG);
    for (const k of ['idle_s', 'countdown_s', 'ping_s', 'client_timeout_s']) {
      if (typeof c[k] === 'number' && c[k] > 0) cfg[k] = c[k];
    }
    if (typeof c.require_rangka5 === 'boolean') cfg.require_rangka5 = c.require_rangka5;
    if (typeof c.region === 'string') cfg.region = c.region.toUpperCase().replace(/[^A-Z]/g, '').slice(0, 2);
    app.config = cfg;
  }

  async function loadCatalogue(lang) {
    app.catalogues[lang] = await getRetrying('/i18n/' + lang + '.json');
  }

  // loadContent fetches the help and information pages in lang; false
  // when the agent could not give them.
  async function loadContent(lang) {
    try {
      const res = await api('GET', '/api/content?lang=' + lang, undefined, SHORT_TIMEOUT_MS);
      if (res.status === 200 && res.data && Array.isArray(res.data.pages)) {
        app.content[lang] = res.data;
        return true;
      }
    } catch (e) { /* retried below */ }
    return false;
  }

  // refreshContent loads the pages of the current language and shows
  // them; it keeps trying in the background when the agent has none.
  async function refreshContent() {
    clearTimeout(app.contentRetry);
    const lang = s.lang;
    const ok = await loadContent(lang);
    if (!ok) app.contentRetry = setTimeout(refreshContent, CONTENT_RETRY_MS);
    if (lang === s.lang) renderContentViews();
  }

  function ping() {
    api('POST', '/api/ui/ping', undefined, SHORT_TIMEOUT_MS).catch(function () {});
  }

  function startPing() {
    clearInterval(app.pingTimer);
    ping();
    app.pingTimer = setInterval(ping, app.config.ping_s * 1000);
  }

  // ---- Session --------------------------------------------------------

  function startSession() {
    const gen = app.gen;
    s.sessionStarted = true;
    s.session = api('POST', '/api/session', undefined, SHORT_TIMEOUT_MS).then(function (res) {
      if (gen !== app.gen) return;
      const err = res.data && res.data.error;
      if (err && err.code === 'maintenance') enterMaintenance(null, true);
    }).catch(function () { /* the lookup reports what is wrong */ });
  }

  // endSession drops the agent's session, after its start if that is
  // still on the way, so that no session is left behind.
  function endSession(pending) {
    (pending || Promise.resolve()).then(function () {
      return api('DELETE', '/api/session', undefined, SHORT_TIMEOUT_MS);
    }).catch(function () {});
  }

  // ---- Formatting -----------------------------------------------------

  function pad2(n) { return (n < 10 ? '0' : '') + n; }

  // formatNumber: 299470 -> "299.470"; not a number -> "-".
  function formatNumber(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '-';
    const digits = String(Math.abs(Math.trunc(n))).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
    return (n < 0 ? '-' : '') + digits;
  }

  function formatRupiah(n) { return 'Rp ' + formatNumber(n); }

  // formatDate: "2025-03-10" -> "10-03-2025"; empty -> "-".
  function formatDate(v) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v || '');
    return m ? m[3] + '-' + m[2] + '-' + m[1] : '-';
  }

  // formatWIB: an RFC 3339 time -> "DD-MM-YYYY HH:MM" in Asia/Jakarta
  // (UTC+7), computed here rather than with the browser's zone, which is
  // UTC on a minimal kiosk image.
  function formatWIB(v) {
    const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/.exec(v || '');
    if (!m) return '';
    let ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    const z = m[7];
    if (z !== 'Z' && z !== 'z') {
      const sign = z[0] === '-' ? -1 : 1;
      ms -= sign * (Number(z.slice(1, 3)) * 60 + Number(z.slice(-2))) * 60000;
    }
    const d = new Date(ms + WIB_OFFSET_MS);
    return pad2(d.getUTCDate()) + '-' + pad2(d.getUTCMonth() + 1) + '-' + d.getUTCFullYear() +
      ' ' + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes());
  }

  // cacheAge: seconds -> "Data tersimpan N menit lalu" etc.
  function cacheAge(ageS) {
    const sec = Math.max(0, Number(ageS) || 0);
    if (sec < 60) return t('result.cache.just_now');
    const unit = function (n, one, many) { return t(n === 1 ? one : many, { n: n }); };
    if (sec < 3600) return unit(Math.floor(sec / 60), 'result.cache.minute', 'result.cache.minutes');
    if (sec < 86400) return unit(Math.floor(sec / 3600), 'result.cache.hour', 'result.cache.hours');
    return unit(Math.floor(sec / 86400), 'result.cache.day', 'result.cache.days');
  }

  // ---- DOM helpers ----------------------------------------------------

  // el builds an element; text is set with textContent, never as markup:
  // every value comes from a backend.
  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function button(id, className, text, onClick) {
    const b = el('button', className, text);
    b.type = 'button';
    if (id) b.id = id;
    b.addEventListener('click', onClick);
    return b;
  }

  function setText(id, text) { $(id).textContent = text; }

  function removeById(id) {
    const e = $(id);
    if (e) e.remove();
  }

  function section(name) { return document.querySelector('main > section[data-screen="' + name + '"]'); }

  // ---- Static texts and language --------------------------------------

  function applyStatic() {
    document.documentElement.lang = s.lang;
    for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll('[data-i18n-placeholder]')) e.placeholder = t(e.dataset.i18nPlaceholder);
    for (const e of document.querySelectorAll('[data-i18n-aria]')) e.setAttribute('aria-label', t(e.dataset.i18nAria));
    $('lang-toggle').setAttribute('lang', s.lang === 'id' ? 'en' : 'id');
  }

  function renderAll() {
    applyStatic();
    renderPlate();
    renderRangka();
    renderResult();
    renderUnavailable();
    renderMaintenance();
    renderContentViews();
    renderCountdown();
  }

  function setLang(lang) {
    if (LANGS.indexOf(lang) < 0 || !app.catalogues[lang]) return;
    s.lang = lang;
    renderAll();
    if (!app.content[lang]) refreshContent();
  }

  // ---- Screens --------------------------------------------------------

  function showScreen(name) {
    s.screen = name;
    const sec = section(name);
    for (const x of document.querySelectorAll('main > section[data-screen]')) x.hidden = x !== sec;
    document.body.dataset.screen = name;
    if (name === 'info') document.body.dataset.page = s.page;
    else delete document.body.dataset.page;
    for (const id of SHARED) {
      const node = $(id);
      const slot = sec.querySelector('[data-slot="' + id + '"]');
      if (slot && node.parentNode !== slot) slot.appendChild(node);
      node.hidden = !slot;
    }
    closePicker();
    renderContentViews();
    sec.scrollTop = 0;
    for (const sc of sec.querySelectorAll('.result-scroll, .page-scroll')) sc.scrollTop = 0;
    window.scrollTo(0, 0);
    const active = document.activeElement;
    if (name === 'plate') $('plate').focus();
    else if (name === 'rangka') $('rangka').focus();
    else if (active && active !== document.body && !sec.contains(active) && !$('lang-toggle').contains(active)) active.blur();
    armIdle();
  }

  function openHelp() {
    if (s.screen !== 'help') s.returnTo.push(s.screen);
    showScreen('help');
  }

  function openInfo(id) {
    if (s.screen !== 'info') s.returnTo.push(s.screen);
    s.page = id;
    showScreen('info');
  }

  function back() {
    if (s.busy) return;
    switch (s.screen) {
      case 'plate':
        reset(); // leaving the flow ends the session
        break;
      case 'rangka':
        $('rangka').value = '';
        s.rangkaError = null;
        renderRangka();
        showScreen('plate');
        break;
      case 'help':
      case 'info':
        showScreen(s.returnTo.pop() || 'welcome');
        break;
    }
  }

  // ---- Welcome --------------------------------------------------------

  function start() {
    if (s.screen !== 'welcome') return;
    startSession();
    showScreen('plate');
  }

  // ---- Plate ----------------------------------------------------------

  // cleanPlate keeps what a plate can hold: upper-case letters, digits
  // and single spaces (a physical keyboard may type those).
  function cleanPlate(v) {
    return v.toUpperCase().replace(/[^A-Z0-9 ]/g, '').replace(/ {2,}/g, ' ').replace(/^ /, '');
  }

  function typed() { return $('plate').value.trim(); }

  // regionUsed: the region code is part of the plate unless the typed
  // text starts with letters (a whole plate typed, e.g. "BA1234QR").
  function regionUsed() { return s.region !== '' && !/^[A-Z]/.test(typed()); }

  // plateInput is what the taxpayer sees, as sent to /api/plate.
  function plateInput() {
    const x = typed();
    if (!regionUsed()) return x;
    return x ? s.region + ' ' + x : s.region;
  }

  function validPreview() { return !!(s.preview && !s.preview.error && s.preview.plate); }

  function onPlateInput() {
    const f = $('plate');
    const v = cleanPlate(f.value);
    if (v !== f.value) f.value = v;
    plateChanged();
  }

  function plateChanged() {
    s.message = null;
    s.preview = null;
    s.previewSeq++;
    clearTimeout(s.previewTimer);
    if (typed() !== '') s.previewTimer = setTimeout(runPreview, PREVIEW_DEBOUNCE_MS);
    renderPlate();
  }

  async function runPreview() {
    clearTimeout(s.previewTimer);
    const seq = ++s.previewSeq;
    const gen = app.gen;
    const input = plateInput();
    let preview = null;
    if (typed() !== '') {
      try {
        const res = await api('POST', '/api/plate', { input: input }, PREVIEW_TIMEOUT_MS);
        if (res.status === 200 && res.data) preview = res.data;
      } catch (e) { /* keep the field usable; the lookup will tell */ }
    }
    if (seq !== s.previewSeq || gen !== app.gen) return; // a newer input won
    s.preview = preview;
    renderPlate();
  }

  // flushPreview makes sure the preview answers the field as it is.
  async function flushPreview() {
    if (typed() === '' || s.preview) return;
    await runPreview();
  }

  // incomplete: letters only so far (the region being typed): no
  // message yet, the next key may well be a digit.
  function incomplete(err) {
    return err.code === 'invalid_plate' && err.reason === 'BAD_FORMAT' && !/[0-9]/.test(plateInput());
  }

  function renderPlate() {
    const reg = $('region');
    reg.textContent = s.region;
    reg.classList.toggle('is-empty', s.region === '');
    reg.hidden = s.region !== '' && !regionUsed();
    reg.setAttribute('aria-expanded', String(s.pickerOpen));

    const ok = validPreview();
    setText('plate-preview', ok ? s.preview.plate : '');
    $('preview-row').classList.toggle('is-empty', !ok);

    const perr = $('plate-error');
    const err = s.preview && s.preview.error && !incomplete(s.preview.error) ? s.preview.error : null;
    perr.textContent = err ? errorText(err) : '';
    perr.hidden = !err;
    if (err && err.reason) perr.dataset.reason = err.reason;
    else delete perr.dataset.reason;
    renderSuggestion(err && err.reason === 'NEED_REGION' ? err.suggestion : '');

    const box = $('message');
    const m = s.message;
    box.hidden = !m;
    setText('message-title', m ? errorTitle(m) : '');
    setText('message-text', m ? errorText(m) : '');
    if (m) box.dataset.code = m.code;
    else delete box.dataset.code;
    section('plate').classList.toggle('has-message', !!m);

    $('plate-next').disabled = s.busy || !ok;
    $('plate-next-label').dataset.i18n = app.config.require_rangka5 ? 'plate.next' : 'plate.search';
    setText('plate-next-label', t($('plate-next-label').dataset.i18n));
  }

  function renderSuggestion(suggestion) {
    let b = $('plate-suggestion');
    if (!suggestion) {
      if (b) b.remove();
      return;
    }
    if (!b) {
      b = button('plate-suggestion', 'btn btn-secondary btn-suggest', '', adoptSuggestion);
      $('plate-error').after(b);
    }
    b.dataset.suggestion = suggestion;
    b.textContent = t('plate.use_suggestion', { suggestion: suggestion });
  }

  // adoptSuggestion takes "BA 1234 QR" as region "BA" and "1234 QR".
  function adoptSuggestion() {
    const b = $('plate-suggestion');
    if (!b) return;
    const sug = b.dataset.suggestion || '';
    const sp = sug.indexOf(' ');
    if (sp > 0 && /^[A-Z]+$/.test(sug.slice(0, sp))) {
      s.region = sug.slice(0, sp);
      $('plate').value = sug.slice(sp + 1);
    } else {
      s.region = '';
      $('plate').value = sug;
    }
    plateChanged();
    $('plate').focus();
  }

  async function plateNext(t0) {
    if (s.busy || s.screen !== 'plate') return;
    await flushPreview();
    if (s.screen !== 'plate' || !validPreview()) return;
    if (app.config.require_rangka5) {
      $('rangka').value = '';
      s.rangkaError = null;
      renderRangka();
      showScreen('rangka');
      return;
    }
    s.rangka5 = '';
    lookup(t0);
  }

  // ---- Region picker --------------------------------------------------

  function openPicker() {
    if (s.busy) return;
    const box = $('region-codes');
    box.textContent = '';
    const codes = [app.config.region].concat(REGIONS).filter(function (c, i, all) { return c && all.indexOf(c) === i; });
    for (const code of codes) {
      const b = el('button', 'btn btn-code', code);
      b.type = 'button';
      b.dataset.region = code;
      b.setAttribute('aria-pressed', String(code === s.region));
      box.append(b);
    }
    s.pickerOpen = true;
    $('region-picker').hidden = false;
    renderPlate();
    const cur = box.querySelector('[aria-pressed="true"]') || box.firstChild;
    if (cur) cur.focus();
  }

  function closePicker() {
    if (!s.pickerOpen) return;
    s.pickerOpen = false;
    $('region-picker').hidden = true;
    renderPlate();
    if (s.screen === 'plate') $('plate').focus();
  }

  function pickRegion(code) {
    s.region = code;
    // A whole plate typed before is now the part after the region.
    if (code !== '') $('plate').value = cleanPlate($('plate').value.replace(/^[A-Z]+\s*(?=[0-9])/, ''));
    closePicker();
    plateChanged();
  }

  // ---- Chassis digits -------------------------------------------------

  function cleanRangka(v) { return v.toUpperCase().replace(/[^0-9A-Z]/g, '').slice(0, 5); }

  function onRangkaInput() {
    const f = $('rangka');
    const v = cleanRangka(f.value);
    if (v !== f.value) f.value = v;
    s.rangkaError = null;
    renderRangka();
  }

  function renderRangka() {
    const n = $('rangka').value.length;
    setText('rangka-count', t('rangka.count', { n: String(n) }));
    const box = $('rangka-error');
    const e = s.rangkaError;
    box.hidden = !e;
    box.textContent = e ? (e.code === 'rangka_short' ? t('rangka.short') : errorText(e)) : '';
    if (e) box.dataset.code = e.code;
    else delete box.dataset.code;
    $('search').disabled = s.busy || n !== 5;
  }

  // search takes the chassis digits out of the field (they are never
  // shown again) and looks the plate up.
  function search(t0) {
    if (s.busy || s.screen !== 'rangka') return;
    const v = cleanRangka($('rangka').value);
    if (v.length !== 5) {
      s.rangkaError = { code: 'rangka_short' };
      renderRangka();
      return;
    }
    s.rangka5 = v;
    $('rangka').value = '';
    s.rangkaError = null;
    renderRangka();
    lookup(t0);
  }

  // ---- Lookup ---------------------------------------------------------

  async function lookup(t0) {
    if (s.busy) return;
    delete document.body.dataset.lookupMs;
    delete document.body.dataset.lookupSource;
    const gen = app.gen;
    const seq = ++s.lookupSeq;
    const plate = validPreview() ? s.preview.plate : (s.lookupPlate || plateInput());
    s.lookupPlate = plate;
    const body = { plate: plate };
    if (s.rangka5) body.rangka5 = s.rangka5;
    setBusy(true);
    let res = null;
    let why = 'network';
    const deadline = performance.now() + app.config.client_timeout_s * 1000;
    try {
      if (s.session) await Promise.race([s.session, sleep(SHORT_TIMEOUT_MS)]);
      res = await api('POST', '/api/lookup', body, Math.max(1000, deadline - performance.now()));
    } catch (e) {
      res = null;
      if (e && e.name === 'AbortError') why = 'timeout';
    }
    if (gen !== app.gen || seq !== s.lookupSeq) return; // reset meanwhile
    setBusy(false);
    showLookup(res, why, t0, gen);
  }

  function showLookup(res, why, t0, gen) {
    if (res && res.status === 200 && res.data && res.data.result) {
      s.rangka5 = '';
      s.answer = res.data;
      s.print = { state: '' };
      renderResult();
      showScreen('result');
      const source = res.data.source === 'cache' ? 'cache' : 'live';
      // "Painted": the frame that shows the result has been drawn. A task
      // queued from its animation-frame callback runs right after that
      // frame's paint.
      requestAnimationFrame(function () {
        setTimeout(function () {
          if (gen !== app.gen || s.answer !== res.data) return;
          document.body.dataset.lookupMs = (performance.now() - t0).toFixed(1);
          document.body.dataset.lookupSource = source;
        }, 0);
      });
      return;
    }
    if (!res) {
      s.unavailable = why;
      renderUnavailable();
      showScreen('unavailable');
      return;
    }
    const err = (res.data && res.data.error) || { code: 'internal' };
    switch (err.code) {
      case 'invalid_plate':
        s.rangka5 = '';
        s.preview = { error: err, plate: res.data.plate };
        renderPlate();
        showScreen('plate');
        break;
      case 'rangka_required':
      case 'rangka_mismatch':
        s.rangka5 = '';
        $('rangka').value = '';
        s.rangkaError = err;
        renderRangka();
        showScreen('rangka');
        break;
      case 'source_unavailable':
        s.unavailable = 'source_unavailable'; // rangka5 kept for #retry
        renderUnavailable();
        showScreen('unavailable');
        break;
      case 'maintenance':
        enterMaintenance(null, true);
        break;
      default: // not_found, rate_limited, anything else
        s.rangka5 = '';
        s.message = err;
        renderPlate();
        showScreen('plate');
    }
  }

  function setBusy(busy) {
    s.busy = busy;
    $('busy').hidden = !busy;
    $('retry').disabled = busy;
    renderPlate();
    renderRangka();
    if (busy) clearIdle();
    else armIdle();
  }

  function retry() {
    if (s.busy || s.screen !== 'unavailable') return;
    lookup(performance.now());
  }

  // ---- Result ---------------------------------------------------------

  function tnkbName(v) {
    if (!v) return '-';
    return t('tnkb.' + v) || v;
  }

  function renderResult() {
    const a = s.answer;
    const r = a && a.result ? a.result : null;
    const k = (r && r.kendaraan) || {};
    const st = (r && r.status) || {};
    const dash = function (v) { return r ? (v || '-') : ''; };
    setText('result-plate', r ? (r.nopol || a.plate || '') : '');
    if (r && k.warna_tnkb) $('result-plate').dataset.tnkb = String(k.warna_tnkb).toLowerCase();
    else delete $('result-plate').dataset.tnkb;
    setText('result-merk', dash(k.merk));
    setText('result-tipe', dash(k.tipe));
    setText('result-tahun', dash(k.tahun));
    setText('result-warna', dash(k.warna));
    setText('result-tnkb', r ? tnkbName(k.warna_tnkb) : '');
    setText('result-due-pkb', r ? formatDate(r.tgl_akhir_pkb) : '');
    setText('result-due-stnk', r ? formatDate(r.tgl_akhir_stnk) : '');
    setText('result-status', dash(st.keterangan));
    $('result-status').classList.toggle('is-blocked', !!(r && st.blokir));

    const notices = $('notices');
    notices.textContent = '';
    removeById('demo-badge');
    setText('items-body', '');
    removeById('info-open-pembayaran');
    if (!r) {
      setText('jumlah-label', '');
      setText('jumlah', '');
      setText('data-per', '');
      renderPrint();
      return;
    }
    const notice = function (id, kind, text) {
      const n = el('p', 'notice notice-' + kind, text);
      if (id) n.id = id;
      notices.append(n);
    };
    if (st.blokir) notice('blocked-notice', 'danger', t('result.blokir'));
    if (r.estimasi) notice('estimate-banner', 'warn', t('result.estimasi'));
    if (a.source === 'cache') notice('cache-age', 'info', cacheAge(a.age_s));
    if (a.stale) notice('stale', 'warn', t('result.stale'));
    if (r.sumber === 'DEMO') {
      const badge = el('span', 'badge badge-demo', t('result.demo'));
      badge.id = 'demo-badge';
      $('result-head').append(badge);
      notice('', 'demo', t('result.demo_note'));
    }

    const tbody = $('items-body');
    for (const row of itemRows(r)) {
      const tr = el('tr');
      tr.dataset.item = row[0];
      if (row[0] === 'program') {
        const td = el('td', 'col-program', row[2]);
        td.colSpan = 2;
        tr.append(el('th', 'col-label', row[1]), td);
      } else {
        tr.append(el('th', 'col-label', row[1]), el('td', 'col-num', row[2]), el('td', 'col-num', row[3]));
      }
      tr.firstChild.scope = 'row';
      tbody.append(tr);
    }
    setText('jumlah-label', t(r.estimasi ? 'result.jumlah_estimasi' : 'result.jumlah'));
    setText('jumlah', formatRupiah(r.jumlah));
    const when = formatWIB(r.dihitung_pada);
    setText('data-per', when ? t('result.data_per', { time: when }) : '');
    $('how-to-pay').append(button('info-open-pembayaran', 'btn btn-secondary btn-pay', t('result.pay.more'), function () {
      openInfo(PAGE_PAYMENT);
    }));
    renderPrint();
  }

  // itemRows lists the bill as [item, label, pokok, denda]: 0 is "0", an
  // opsen the source does not split out (null) is "-"; potongan and the
  // programme only when there are some.
  function itemRows(r) {
    const rc = r.rincian || {};
    const pnbp = rc.pnbp || {};
    const item = function (x) { return x ? [formatNumber(x.pokok || 0), formatNumber(x.denda || 0)] : ['-', '-']; };
    const rows = [
      ['pkb', t('result.pkb')].concat(item(rc.pkb || { pokok: 0, denda: 0 })),
      ['opsen_pkb', t('result.opsen_pkb')].concat(item(rc.opsen_pkb)),
      ['swdkllj', t('result.swdkllj')].concat(item(rc.swdkllj || { pokok: 0, denda: 0 })),
      ['pnbp_stnk', t('result.pnbp_stnk'), formatNumber(pnbp.stnk || 0), ''],
      ['pnbp_tnkb', t('result.pnbp_tnkb'), formatNumber(pnbp.tnkb || 0), '']
    ];
    if (rc.potongan) rows.push(['potongan', t('result.potongan'), '\u2212' + formatNumber(rc.potongan), '']);
    if (r.program) rows.push(['program', t('result.program'), r.program]);
    return rows;
  }

  function again() {
    if (s.busy) return;
    s.answer = null;
    s.print = { state: '' };
    s.preview = null;
    s.message = null;
    s.lookupPlate = '';
    $('plate').value = '';
    s.region = app.config.region;
    delete document.body.dataset.lookupMs;
    delete document.body.dataset.lookupSource;
    renderResult();
    renderPlate();
    showScreen('plate');
  }

  // ---- Printing -------------------------------------------------------

  // printBlock is the catalogue key of why the printer cannot print now,
  // or '' (paper near its end still prints).
  function printBlock() {
    const p = app.status && app.status.printer;
    if (!p) return '';
    if (!p.connected) return 'print.reason.unavailable';
    if (p.paper === 'out') return 'print.reason.paper_out';
    if (p.cover_open) return 'print.reason.cover_open';
    if (!p.online) return 'print.reason.offline';
    if (p.error) return 'print.reason.fault';
    return '';
  }

  function printing() { return ['sending', 'queued', 'printing'].indexOf(s.print.state) >= 0; }

  function renderPrint() {
    const block = printBlock();
    $('print').disabled = !s.answer || !!block || printing() || s.busy;
    const reason = $('print-reason');
    reason.textContent = block && s.answer ? t(block) : '';
    reason.hidden = !reason.textContent;
    const box = $('print-status');
    const p = s.print;
    let text = '';
    if (printing()) text = t('print.printing');
    else if (p.state === 'done') text = t('print.done');
    else if (p.state === 'failed') text = p.text || t('print.failed');
    else if (p.state === 'error') text = errorText(p.err);
    box.textContent = text;
    box.hidden = !text;
    box.parentNode.classList.toggle('is-empty', reason.hidden && box.hidden);
    if (p.state) box.dataset.state = p.state;
    else delete box.dataset.state;
    if (p.state === 'error') box.dataset.code = p.err.code;
    else delete box.dataset.code;
  }

  async function doPrint() {
    if (!s.answer || printBlock() || printing()) return;
    const gen = app.gen;
    const answer = s.answer;
    s.print = { state: 'sending' };
    renderPrint();
    let res = null;
    try {
      res = await api('POST', '/api/print', { plate: answer.plate || answer.result.nopol }, SHORT_TIMEOUT_MS);
    } catch (e) { res = null; }
    if (gen !== app.gen || s.answer !== answer) return;
    if (res && res.status === 202 && res.data && res.data.job) {
      s.print = { state: 'queued', job: res.data.job };
      renderPrint();
      pollPrint(gen, res.data.job, performance.now());
      return;
    }
    if (!res) s.print = { state: 'failed' };
    else s.print = { state: 'error', err: (res.data && res.data.error) || { code: 'internal' } };
    renderPrint();
  }

  async function pollPrint(gen, job, started) {
    for (;;) {
      await sleep(PRINT_POLL_MS);
      if (gen !== app.gen || s.print.job !== job) return;
      let res = null;
      try {
        res = await api('GET', '/api/print/' + encodeURIComponent(job), undefined, SHORT_TIMEOUT_MS);
      } catch (e) { res = null; }
      if (gen !== app.gen || s.print.job !== job) return;
      if (res && res.status === 200 && res.data) {
        const state = res.data.state;
        if (state === 'done' || state === 'failed') {
          s.print = { state: state, job: job, text: res.data.error || '' };
          renderPrint();
          return;
        }
        s.print.state = state === 'printing' ? 'printing' : 'queued';
        renderPrint();
      } else if (res && res.status === 404) {
        s.print = { state: 'failed', job: job };
        renderPrint();
        return;
      }
      if (performance.now() - started > PRINT_GIVE_UP_MS) {
        s.print = { state: 'failed', job: job };
        renderPrint();
        return;
      }
    }
  }

  // ---- Unavailable and maintenance ------------------------------------

  function renderUnavailable() {
    const box = $('unavailable-message');
    const code = s.unavailable;
    if (code) box.dataset.code = code;
    else delete box.dataset.code;
    if (code === 'timeout') box.textContent = t('unavailable.timeout', { n: String(app.config.client_timeout_s) });
    else if (code) box.textContent = errorText({ code: 'source_unavailable' });
    else box.textContent = '';
  }

  function renderMaintenance() {
    setText('maintenance-message', app.maint.on ? (app.maint.message || t('maintenance.default')) : '');
  }

  // enterMaintenance shows the out-of-service screen over everything,
  // after clearing the taxpayer's data. message null keeps the last one;
  // fromError: the agent answered "maintenance" to a request, so the
  // status is polled until it ends, in case no event comes.
  function enterMaintenance(message, fromError) {
    const was = app.maint.on;
    app.maint.on = true;
    if (message !== null) app.maint.message = message;
    if (fromError) pollMaintenance();
    if (!app.ready) return;
    if (!was || s.screen !== 'maintenance') reset();
    else renderMaintenance();
  }

  function leaveMaintenance() {
    clearInterval(app.statusPoll);
    app.statusPoll = 0;
    if (!app.maint.on) return;
    app.maint = { on: false, message: '' };
    renderMaintenance();
    if (app.ready && s.screen === 'maintenance') showScreen('welcome');
  }

  function pollMaintenance() {
    if (app.statusPoll) return;
    app.statusPoll = setInterval(async function () {
      try {
        const res = await api('GET', '/api/status', undefined, SHORT_TIMEOUT_MS);
        if (res.status === 200 && res.data && res.data.mode !== 'maintenance') leaveMaintenance();
      } catch (e) { /* agent away: keep the screen */ }
    }, STATUS_POLL_MS);
  }

  // ---- Status and events ----------------------------------------------

  function applyStatus(st) {
    if (!st || typeof st !== 'object') return;
    app.status = st;
    $('offline-note').hidden = !(st.bus && st.bus.connected === false);
    if (!app.maintKnown) {
      if (st.mode === 'maintenance') enterMaintenance(null, false);
      else leaveMaintenance();
    }
    renderPrint();
  }

  function applyMaintenance(m) {
    app.maintKnown = true;
    if (m && m.on) enterMaintenance(typeof m.message === 'string' ? m.message : '', false);
    else leaveMaintenance();
  }

  function parse(data) {
    try { return JSON.parse(data); } catch (e) { return null; }
  }

  // openEvents follows GET /api/events. EventSource reconnects by itself
  // after a network error; only a refused stream needs a new one.
  function openEvents() {
    if (typeof EventSource === 'undefined') return;
    const es = new EventSource('/api/events');
    es.addEventListener('status', function (e) { applyStatus(parse(e.data)); });
    es.addEventListener('maintenance', function (e) { applyMaintenance(parse(e.data)); });
    es.addEventListener('content', function () {
      app.content = {};
      refreshContent();
    });
    es.addEventListener('reload', function () { location.replace('/'); });
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        setTimeout(openEvents, EVENTS_RETRY_MS);
      }
    };
  }

  async function loadStatus() {
    try {
      const res = await api('GET', '/api/status', undefined, SHORT_TIMEOUT_MS);
      if (res.status === 200) applyStatus(res.data);
    } catch (e) { /* the events bring it */ }
  }

  // ---- Help and information pages -------------------------------------

  function currentContent() { return app.content[s.lang] || app.content[DEFAULT_LANG] || null; }

  function findPage(id) {
    const c = currentContent();
    if (!c) return null;
    for (const p of c.pages) if (p.id === id) return p;
    return null;
  }

  function renderBlocks(box, blocks) {
    box.textContent = '';
    for (const b of blocks || []) {
      if (b.h) box.append(el('h2', 'page-h', b.h));
      else if (b.p) box.append(el('p', 'page-p', b.p));
      else if (b.ul || b.ol) {
        const list = el(b.ul ? 'ul' : 'ol', 'page-list');
        for (const item of b.ul || b.ol) list.append(el('li', '', item));
        box.append(list);
      }
    }
  }

  function renderPage(prefix, id, fallbackTitle) {
    const page = findPage(id);
    const c = currentContent();
    setText(prefix + '-title', page ? page.title : t(fallbackTitle));
    const body = $(prefix + '-body');
    if (page) renderBlocks(body, page.blocks);
    else {
      body.textContent = '';
      body.append(el('p', 'page-p', t('info.unavailable')));
    }
    setText(prefix + '-updated', page && c.updated ? t('info.updated', { date: formatDate(c.updated) }) : '');
  }

  // renderInfoLinks puts the buttons of the information pages on the
  // visible screen only, so that each #info-open-<id> exists once.
  function renderInfoLinks() {
    for (const box of document.querySelectorAll('[data-info-links]')) box.textContent = '';
    const box = section(s.screen).querySelector('[data-info-links]');
    if (!box) return;
    const c = currentContent();
    const pages = c ? c.pages.filter(function (p) { return p.id !== PAGE_HELP; }) : [];
    if (!pages.length) {
      box.append(el('p', 'muted', t('info.unavailable')));
      return;
    }
    for (const p of pages) {
      box.append(button('info-open-' + p.id, 'btn btn-link', p.title, function () { openInfo(p.id); }));
    }
  }

  function renderContentViews() {
    renderInfoLinks();
    if (s.screen === 'help') renderPage('help', PAGE_HELP, 'help.title');
    if (s.screen === 'info') renderPage('info', s.page, 'info.heading');
  }

  // ---- Idle reset -----------------------------------------------------

  function clearIdle() {
    clearTimeout(s.idleTimer);
    s.idleTimer = 0;
  }

  function armIdle() {
    clearIdle();
    if (!app.ready || s.busy || s.counting || IDLE_FREE.indexOf(s.screen) >= 0) return;
    s.idleTimer = setTimeout(startCountdown, app.config.idle_s * 1000);
  }

  function startCountdown() {
    if (s.busy || IDLE_FREE.indexOf(s.screen) >= 0) return;
    closePicker();
    s.counting = true;
    s.countdownEnd = performance.now() + app.config.countdown_s * 1000;
    renderCountdown();
    $('countdown').hidden = false;
    $('countdown-continue').focus();
    s.countdownTimer = setInterval(function () {
      if (secondsLeft() <= 0) reset();
      else renderCountdown();
    }, 250);
  }

  function secondsLeft() { return Math.max(0, Math.ceil((s.countdownEnd - performance.now()) / 1000)); }

  function renderCountdown() {
    setText('countdown-seconds', s.counting ? String(secondsLeft()) : '');
  }

  function cancelCountdown() {
    if (!s.counting) return;
    clearInterval(s.countdownTimer);
    s.counting = false;
    $('countdown').hidden = true;
    renderCountdown();
    if (s.screen === 'plate') $('plate').focus();
    else if (s.screen === 'rangka') $('rangka').focus();
    else if (document.activeElement === $('countdown-continue')) $('countdown-continue').blur();
  }

  // swallowKey: the key that cancelled the countdown does nothing else.
  let swallowKey = false;

  function activity(e) {
    if (!app.ready) return;
    if (s.counting) {
      cancelCountdown();
      if (e.type === 'keydown') swallowKey = true;
    }
    armIdle();
  }

  // ---- Reset ----------------------------------------------------------

  // reset forgets the taxpayer: the agent's session, every value on the
  // screen, the page's state; Indonesian again; the welcome screen (or
  // maintenance when it is on). Late answers of the old state are
  // dropped (app.gen).
  function reset() {
    app.gen++;
    clearTimeout(s.previewTimer);
    clearIdle();
    clearInterval(s.countdownTimer);
    if (s.sessionStarted) endSession(s.session);
    $('countdown').hidden = true;
    $('busy').hidden = true;
    $('region-picker').hidden = true;
    $('plate').value = '';
    $('rangka').value = '';
    delete document.body.dataset.lookupMs;
    delete document.body.dataset.lookupSource;
    s = freshState();
    renderAll();
    $('retry').disabled = false;
    const active = document.activeElement;
    if (active && active.blur) active.blur();
    showScreen(app.maint.on ? 'maintenance' : 'welcome');
    if (!app.content[s.lang]) refreshContent();
  }

  function finish() { reset(); }

  // ---- Keyboards ------------------------------------------------------

  function activeField() {
    if (s.screen === 'plate') return $('plate');
    if (s.screen === 'rangka') return $('rangka');
    return null;
  }

  // pressKey applies an on-screen key (or a key redirected from the
  // physical keyboard) to the field of the screen, at its end.
  function pressKey(key) {
    const f = activeField();
    if (!f || s.busy || s.pickerOpen) return;
    if (key === 'BACKSPACE') {
      if (f.value === '') {
        if (f.id === 'plate' && s.region !== '') {
          s.region = ''; // the region code goes too, like a typed one
          plateChanged();
        }
        return;
      }
      f.value = f.value.slice(0, -1).replace(/ +$/, '');
    } else if (key === 'CLEAR') {
      f.value = '';
      if (f.id === 'plate') s.region = app.config.region;
    } else if (/^[A-Z0-9]$/.test(key)) {
      if (f.value.length >= f.maxLength) return;
      f.value += key;
    } else {
      return;
    }
    f.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function onKeydown(e) {
    if (!app.ready) return;
    if (swallowKey) {
      // The key proved someone is there (activity() cancelled the
      // countdown); it does nothing else.
      swallowKey = false;
      e.preventDefault();
      return;
    }
    if ((e.ctrlKey || e.metaKey) && ['+', '-', '=', '0'].indexOf(e.key) >= 0) {
      e.preventDefault(); // no zoom
      return;
    }
    if (s.pickerOpen) {
      if (e.key === 'Escape') {
        e.preventDefault();
        closePicker();
      }
      return;
    }
    const target = e.target;
    const onButton = target && target.tagName === 'BUTTON';
    if (e.key === 'Escape') {
      if (!$('back').hidden) {
        e.preventDefault();
        back();
      }
      return;
    }
    if (e.key === 'Enter') {
      if (onButton || e.repeat) return; // the button's own activation
      const t0 = performance.now();
      if (s.screen === 'plate') {
        e.preventDefault();
        plateNext(t0);
      } else if (s.screen === 'rangka') {
        e.preventDefault();
        search(t0);
      } else if (s.screen === 'welcome') {
        e.preventDefault();
        start();
      }
      return;
    }
    const f = activeField();
    if (!f || e.ctrlKey || e.altKey || e.metaKey || target === f) {
      if (f && target === f && e.key === 'Backspace' && f.id === 'plate' && f.value === '' && s.region !== '') {
        e.preventDefault();
        pressKey('BACKSPACE');
      }
      return;
    }
    // Typing while a button has the focus still goes into the field.
    if (/^[a-zA-Z0-9]$/.test(e.key)) {
      e.preventDefault();
      f.focus();
      pressKey(e.key.toUpperCase());
    } else if (e.key === 'Backspace') {
      e.preventDefault();
      f.focus();
      pressKey('BACKSPACE');
    }
  }

  // ---- Wiring ---------------------------------------------------------

  function on(id, type, f) { $(id).addEventListener(type, f); }

  function bindEvents() {
    on('start', 'click', start);
    on('help-open', 'click', openHelp);
    on('back', 'click', back);
    on('lang-toggle', 'click', function () { setLang(s.lang === 'id' ? 'en' : 'id'); });
    on('plate', 'input', onPlateInput);
    on('rangka', 'input', onRangkaInput);
    on('plate-next', 'click', function () { plateNext(performance.now()); });
    on('search', 'click', function () { search(performance.now()); });
    on('retry', 'click', retry);
    on('finish', 'click', finish);
    on('again', 'click', again);
    on('print', 'click', doPrint);
    on('region', 'click', openPicker);
    on('region-close', 'click', closePicker);
    on('region-picker', 'click', function (e) {
      const b = e.target.closest('button[data-region]');
      if (b) pickRegion(b.dataset.region);
      else if (e.target === $('region-picker')) closePicker();
    });
    on('countdown-continue', 'click', cancelCountdown);
    const kb = $('keyboard');
    // Keep the focus (and the caret) in the field while keys are tapped.
    kb.addEventListener('mousedown', function (e) { e.preventDefault(); });
    kb.addEventListener('click', function (e) {
      const b = e.target.closest('button[data-key]');
      if (b) pressKey(b.dataset.key);
    });

    document.addEventListener('keydown', onKeydown);
    for (const type of ['pointerdown', 'keydown', 'input', 'wheel']) {
      document.addEventListener(type, activity, { capture: true, passive: true });
    }
    // A kiosk: no context menu, no selection, no dragging, no zoom.
    document.addEventListener('contextmenu', function (e) { e.preventDefault(); });
    document.addEventListener('selectstart', function (e) {
      if (!(e.target instanceof HTMLInputElement)) e.preventDefault();
    });
    document.addEventListener('dragstart', function (e) { e.preventDefault(); });
    document.addEventListener('gesturestart', function (e) { e.preventDefault(); });
    document.addEventListener('touchmove', function (e) {
      if (e.touches && e.touches.length > 1) e.preventDefault();
    }, { passive: false });
    document.addEventListener('wheel', function (e) {
      if (e.ctrlKey) e.preventDefault();
    }, { passive: false });
  }

  async function init() {
    bindEvents();
    startPing();
    await Promise.all([loadConfig(), loadCatalogue('id'), loadCatalogue('en')]);
    startPing();
    document.body.classList.toggle('no-rangka', !app.config.require_rangka5);
    s = freshState();
    await Promise.all([loadStatus(), Promise.race([refreshContent(), sleep(CONTENT_WAIT_MS)])]);
    app.ready = true;
    renderAll();
    showScreen(app.maint.on ? 'maintenance' : 'welcome');
    document.documentElement.dataset.ready = '1';
    openEvents();
  }

  init();
})();
