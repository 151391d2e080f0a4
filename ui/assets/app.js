// The taxpayer screen of the PKB kiosk. Plain JS, no build step, no
// modules: it runs in WebKitGTK (the kiosk's webview) and Chromium.
//
// The page never re-implements a rule: the agent normalises plates
// (POST /api/plate), looks them up (POST /api/lookup) and the message
// catalogues (/i18n/<lang>.json) hold every string shown. The chassis
// digits (rangka5) are sent once and never shown back or kept.
'use strict';

(function () {
  // ---- Settings -------------------------------------------------------

  const LOOKUP_TIMEOUT_MS = 8000;   // then "service unavailable"
  const PREVIEW_DEBOUNCE_MS = 150;
  const PREVIEW_TIMEOUT_MS = 3000;
  const PING_INTERVAL_MS = 5000;
  const PING_TIMEOUT_MS = 4000;
  const SESSION_TIMEOUT_MS = 2000;
  const CATALOGUE_RETRY_MS = 2000;
  // Clear the screen when nobody touched it for this long (domain/pkb.md
  // 4.2: 60 s warning + 15 s countdown; the countdown comes with the
  // guided flow, this is the plain reset).
  const IDLE_RESET_MS = 75000;
  const WIB_OFFSET_MS = 7 * 3600 * 1000; // Asia/Jakarta, no DST
  const DEFAULT_LANG = 'id';
  const LANGS = ['id', 'en'];

  // Error code -> style of the message box.
  const KINDS = {
    invalid_plate: 'invalid',
    rangka_required: 'rangka',
    rangka_mismatch: 'mismatch',
    not_found: 'notfound',
    rate_limited: 'rate',
    source_unavailable: 'unavailable',
    maintenance: 'maintenance'
  };

  // ---- State ----------------------------------------------------------

  const state = {
    lang: DEFAULT_LANG,
    catalogues: {},   // lang -> {key: text}
    preview: null,    // reply of /api/plate: {plate} or {error, plate}
    message: null,    // error object of the last failed lookup
    answer: null,     // reply of a successful /api/lookup
    busy: false,
    session: '',
    previewTimer: 0,
    previewSeq: 0,
    lookupSeq: 0,
    idleTimer: 0
  };

  function $(id) { return document.getElementById(id); }

  // ---- Catalogue ------------------------------------------------------

  function catalogue() { return state.catalogues[state.lang] || {}; }

  // fill substitutes {name} placeholders; it returns null when one has no
  // value, so that the caller can fall back to a less specific message.
  function fill(tmpl, vars) {
    let ok = true;
    const s = tmpl.replace(/\{([a-z_]+)\}/g, function (m, name) {
      const v = vars && vars[name] !== undefined && vars[name] !== null ? String(vars[name]) : '';
      if (v === '') ok = false;
      return v;
    });
    return ok ? s : null;
  }

  function t(key, vars) {
    const tmpl = catalogue()[key];
    if (tmpl === undefined) return '';
    const s = fill(tmpl, vars);
    return s === null ? '' : s;
  }

  // errorKeys mirrors ui/i18n.go errorKeys: most specific first.
  function errorKeys(err) {
    const keys = [];
    if (err.code === 'invalid_plate' && err.reason) keys.push('err.invalid_plate.' + err.reason);
    keys.push('err.' + err.code);
    return keys;
  }

  // errorText renders an error in the current language from the
  // catalogue, so that a language switch re-renders it too. The agent's
  // own message is the fallback for a code the catalogue lacks.
  function errorText(err) {
    const vars = { suggestion: err.suggestion, province: err.province };
    const cat = catalogue();
    for (const key of errorKeys(err)) {
      if (cat[key] === undefined) continue;
      const s = fill(cat[key], vars);
      if (s !== null) return s;
    }
    return err.message || t('err.internal');
  }

  function errorTitle(err) {
    return t('msg.title.' + err.code) || t('msg.title.error');
  }

  async function fetchCatalogue(lang) {
    if (state.catalogues[lang]) return;
    for (;;) {
      try {
        const resp = await fetch('/i18n/' + lang + '.json', { cache: 'no-cache' });
        if (resp.ok) {
          state.catalogues[lang] = await resp.json();
          return;
        }
      } catch (e) { /* agent restarting: retry */ }
      await sleep(CATALOGUE_RETRY_MS);
    }
  }

  function applyStatic() {
    document.documentElement.lang = state.lang;
    document.title = t('app.title');
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const el of document.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
    for (const el of document.querySelectorAll('[data-lang]')) el.setAttribute('aria-pressed', String(el.dataset.lang === state.lang));
  }

  async function setLang(lang) {
    if (LANGS.indexOf(lang) < 0) return;
    await fetchCatalogue(lang);
    state.lang = lang;
    renderAll();
  }

  function renderAll() {
    applyStatic();
    renderPreview();
    renderMessage();
    renderResult();
  }

  // ---- HTTP -----------------------------------------------------------

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // api calls the agent. It resolves to {status, data} (data null when
  // the body is not JSON) and rejects on a network failure or timeout.
  async function api(method, path, body, timeoutMs) {
    const ctrl = new AbortController();
    const timer = setTimeout(function () { ctrl.abort(); }, timeoutMs);
    const init = { method: method, headers: { 'X-Kiosk-Lang': state.lang }, signal: ctrl.signal, cache: 'no-store' };
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

  function ping() {
    api('POST', '/api/ui/ping', undefined, PING_TIMEOUT_MS).catch(function () {});
  }

  function startPing() {
    ping();
    setInterval(ping, PING_INTERVAL_MS);
  }

  async function ensureSession() {
    if (state.session) return;
    try {
      const res = await api('POST', '/api/session', undefined, SESSION_TIMEOUT_MS);
      if (res.status === 200 && res.data && res.data.session) state.session = res.data.session;
    } catch (e) { /* the lookup reports what is wrong */ }
  }

  function endSession() {
    state.session = '';
    api('DELETE', '/api/session', undefined, SESSION_TIMEOUT_MS).catch(function () {});
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
  function formatDate(s) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
    return m ? m[3] + '-' + m[2] + '-' + m[1] : '-';
  }

  // formatWIB: an RFC 3339 time -> "DD-MM-YYYY HH:MM" in Asia/Jakarta
  // (UTC+7), computed here rather than with the browser's zone, which
  // is UTC on a minimal kiosk image.
  function formatWIB(s) {
    const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/.exec(s || '');
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

  // cacheAge: seconds -> "Data tersimpan, diambil N menit lalu" etc.
  function cacheAge(ageS) {
    const s = Math.max(0, Number(ageS) || 0);
    if (s < 60) return t('result.cache.just_now');
    if (s < 3600) return t('result.cache.minutes', { n: Math.floor(s / 60) });
    if (s < 86400) return t('result.cache.hours', { n: Math.floor(s / 3600) });
    return t('result.cache.days', { n: Math.floor(s / 86400) });
  }

  // ---- DOM helpers ----------------------------------------------------

  // el builds an element; text is set with textContent, never as HTML,
  // because every value comes from a backend.
  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function plateChip(plate, warnaTNKB) {
    const chip = el('span', 'plate-chip', plate);
    if (warnaTNKB) chip.dataset.tnkb = String(warnaTNKB).toLowerCase();
    return chip;
  }

  // ---- Plate preview --------------------------------------------------

  function onPlateInput() {
    if (state.message) {
      state.message = null; // it was about the plate as it was
      renderMessage();
    }
    clearTimeout(state.previewTimer);
    state.previewTimer = setTimeout(runPreview, PREVIEW_DEBOUNCE_MS);
  }

  async function runPreview() {
    const input = $('plate').value;
    const seq = ++state.previewSeq;
    let preview = null;
    if (input.trim() !== '') {
      try {
        const res = await api('POST', '/api/plate', { input: input }, PREVIEW_TIMEOUT_MS);
        if (res.status === 200 && res.data) preview = res.data;
      } catch (e) { /* keep the field usable; the lookup will tell */ }
    }
    if (seq !== state.previewSeq) return; // a newer input won
    state.preview = preview;
    renderPreview();
  }

  function renderPreview() {
    const box = $('plate-preview');
    box.textContent = '';
    const p = state.preview;
    box.hidden = !p;
    if (!p) {
      delete box.dataset.kind;
      return;
    }
    if (p.error) {
      // After a failed lookup the message box already says it.
      const shown = state.message && state.message.code === p.error.code && state.message.reason === p.error.reason;
      box.dataset.kind = 'invalid';
      if (!shown) box.append(el('span', 'preview-text', errorText(p.error)));
      if (p.error.suggestion) box.append(suggestionButton(p.error.suggestion));
      box.hidden = !box.firstChild;
      return;
    }
    box.dataset.kind = 'ok';
    box.append(el('span', 'preview-label', t('form.plate.preview')), plateChip(p.plate));
  }

  function suggestionButton(suggestion) {
    const b = el('button', 'btn btn-suggest', t('form.plate.use_suggestion', { suggestion: suggestion }));
    b.type = 'button';
    b.addEventListener('click', function () {
      $('plate').value = suggestion;
      onPlateInput();
      $('rangka').focus();
    });
    return b;
  }

  // ---- Chassis digits -------------------------------------------------

  function onRangkaInput() {
    const input = $('rangka');
    const v = input.value.toUpperCase().replace(/[^0-9A-Z]/g, '').slice(0, 5);
    if (v !== input.value) input.value = v;
  }

  // takeRangka reads the chassis digits and clears the field: they are
  // used for one request and never shown back.
  function takeRangka() {
    const input = $('rangka');
    const v = input.value;
    input.value = '';
    return v;
  }

  // ---- Lookup ---------------------------------------------------------

  async function lookup() {
    if (state.busy) return;
    const plate = $('plate').value;
    const rangka5 = takeRangka();
    const seq = ++state.lookupSeq;
    state.message = null;
    state.answer = null;
    renderMessage();
    renderResult();
    setBusy(true);
    let res = null;
    try {
      await ensureSession();
      res = await api('POST', '/api/lookup', { plate: plate, rangka5: rangka5 }, LOOKUP_TIMEOUT_MS);
    } catch (e) {
      res = null; // timeout or no agent
    }
    if (seq !== state.lookupSeq) return; // "Selesai" was tapped meanwhile
    setBusy(false);
    showLookup(res);
  }

  function showLookup(res) {
    if (res && res.status === 200 && res.data && res.data.result) {
      state.answer = res.data;
      renderResult();
      $('result').scrollIntoView({ block: 'nearest' });
      return;
    }
    let err;
    if (!res) err = { code: 'source_unavailable' };
    else if (res.data && res.data.error) err = res.data.error;
    else err = { code: 'internal' };
    state.message = err;
    renderMessage();
    renderPreview();
    focusFor(err);
  }

  function focusFor(err) {
    if (err.code === 'rangka_required' || err.code === 'rangka_mismatch') $('rangka').focus();
    else if (err.code === 'invalid_plate') $('plate').focus();
  }

  function setBusy(busy) {
    state.busy = busy;
    $('submit').disabled = busy;
    $('submit').classList.toggle('is-busy', busy);
    $('busy').hidden = !busy;
  }

  // ---- Messages -------------------------------------------------------

  function renderMessage() {
    const box = $('message');
    box.textContent = '';
    const err = state.message;
    box.hidden = !err;
    if (!err) {
      delete box.dataset.kind;
      return;
    }
    box.dataset.kind = KINDS[err.code] || 'error';
    box.append(el('span', 'message-icon'), el('strong', 'message-title', errorTitle(err)),
      el('p', 'message-text', errorText(err)));
  }

  // ---- Result ---------------------------------------------------------

  function renderResult() {
    const box = $('result');
    box.textContent = '';
    const a = state.answer;
    box.hidden = !a;
    document.body.classList.toggle('has-result', !!a);
    if (!a) return;
    const r = a.result || {};
    box.setAttribute('aria-label', t('result.title'));
    box.append(resultHeader(a, r));
    for (const n of resultNotices(a, r)) box.append(n);
    box.append(vehicleList(r), itemsTable(r), totalBox(r), resultFooter(r));
  }

  function resultHeader(a, r) {
    const head = el('div', 'result-head');
    const k = r.kendaraan || {};
    head.append(el('span', 'result-label', t('result.nopol')), plateChip(r.nopol || a.plate || '', k.warna_tnkb));
    if (r.sumber === 'DEMO') head.append(el('span', 'badge badge-demo', t('result.demo')));
    return head;
  }

  function resultNotices(a, r) {
    const out = [];
    const status = r.status || {};
    if (status.blokir) out.push(el('div', 'notice notice-blokir', t('result.blokir')));
    if (r.estimasi) out.push(el('div', 'notice notice-estimasi', t('result.estimasi')));
    if (a.source === 'cache') out.push(el('div', 'notice notice-cache', cacheAge(a.age_s)));
    if (a.stale) out.push(el('div', 'notice notice-stale', t('result.stale')));
    if (r.sumber === 'DEMO') out.push(el('div', 'notice notice-demo', t('result.demo_note')));
    return out;
  }

  function vehicleList(r) {
    const k = r.kendaraan || {};
    const status = r.status || {};
    const dl = el('dl', 'facts');
    const tnkb = k.warna_tnkb ? (t('tnkb.' + k.warna_tnkb) || k.warna_tnkb) : '-';
    const rows = [
      ['result.kendaraan', [k.merk, k.tipe].filter(Boolean).join(' ') || '-'],
      ['result.tahun', k.tahun || '-'],
      ['result.warna', k.warna || '-'],
      ['result.warna_tnkb', tnkb],
      ['result.tgl_akhir_pkb', formatDate(r.tgl_akhir_pkb)],
      ['result.tgl_akhir_stnk', formatDate(r.tgl_akhir_stnk)],
      ['result.keterangan', status.keterangan || '-']
    ];
    for (const row of rows) {
      const item = el('div', 'fact');
      item.append(el('dt', '', t(row[0])), el('dd', '', row[1]));
      dl.append(item);
    }
    return dl;
  }

  // itemRows lists every line of the bill as [label, pokok, denda]: 0 is
  // "0", an opsen the source does not split out (null) is "-".
  function itemRows(rc) {
    const item = function (x) { return x ? [formatNumber(x.pokok), formatNumber(x.denda)] : ['-', '-']; };
    const pnbp = rc.pnbp || {};
    const rows = [
      ['result.pkb'].concat(item(rc.pkb || { pokok: 0, denda: 0 })),
      ['result.opsen_pkb'].concat(item(rc.opsen_pkb)),
      ['result.swdkllj'].concat(item(rc.swdkllj || { pokok: 0, denda: 0 })),
      ['result.pnbp_stnk', formatNumber(pnbp.stnk || 0), ''],
      ['result.pnbp_tnkb', formatNumber(pnbp.tnkb || 0), '']
    ];
    if (rc.potongan) rows.push(['result.potongan', '\u2212' + formatNumber(rc.potongan), '']);
    return rows;
  }

  function itemsTable(r) {
    const rc = r.rincian || {};
    const wrap = el('div', 'items');
    const table = el('table', 'items-table');
    const head = el('tr');
    head.append(el('th', 'col-label', t('result.rincian')), el('th', 'col-num', t('result.pokok')),
      el('th', 'col-num', t('result.denda')));
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    for (const row of itemRows(rc)) {
      const tr = el('tr');
      tr.append(el('td', 'col-label', t(row[0])), el('td', 'col-num', row[1]), el('td', 'col-num', row[2]));
      tbody.append(tr);
    }
    table.append(thead, tbody);
    wrap.append(table);
    if (r.program) wrap.append(el('p', 'program', t('result.program', { program: r.program })));
    return wrap;
  }

  function totalBox(r) {
    const box = el('div', 'total');
    box.append(el('span', 'total-label', t(r.estimasi ? 'result.jumlah_estimasi' : 'result.jumlah')),
      el('span', 'total-amount', formatRupiah(r.jumlah)));
    return box;
  }

  function resultFooter(r) {
    const foot = el('div', 'result-foot');
    const when = formatWIB(r.dihitung_pada);
    if (when) foot.append(el('p', 'data-per', t('result.data_per', { time: when })));
    foot.append(el('p', 'not-receipt', t('result.not_receipt')));
    return foot;
  }

  // ---- Finish and idle ------------------------------------------------

  // clearAll forgets everything of this taxpayer: inputs, preview,
  // message, result, session, and goes back to Indonesian.
  function clearAll() {
    clearTimeout(state.previewTimer);
    state.previewSeq++;
    state.lookupSeq++;
    setBusy(false);
    $('plate').value = '';
    $('rangka').value = '';
    state.preview = null;
    state.message = null;
    state.answer = null;
    if (state.session) endSession();
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    state.lang = DEFAULT_LANG;
    renderAll();
    window.scrollTo(0, 0);
  }

  function hasTaxpayerData() {
    return !!(state.answer || state.message || state.preview || state.session ||
      $('plate').value || $('rangka').value || state.lang !== DEFAULT_LANG);
  }

  function markActivity() {
    clearTimeout(state.idleTimer);
    state.idleTimer = setTimeout(function () {
      if (hasTaxpayerData()) clearAll();
    }, IDLE_RESET_MS);
  }

  // ---- Wiring ---------------------------------------------------------

  function bindEvents() {
    $('plate').addEventListener('input', onPlateInput);
    $('rangka').addEventListener('input', onRangkaInput);
    $('form').addEventListener('submit', function (e) {
      e.preventDefault();
      lookup();
    });
    $('plate').addEventListener('keydown', function (e) {
      if (e.key === 'Enter') {
        e.preventDefault();
        $('rangka').focus();
      }
    });
    $('done').addEventListener('click', clearAll);
    for (const b of document.querySelectorAll('[data-lang]')) {
      b.addEventListener('click', function () { setLang(b.dataset.lang); });
    }
    document.addEventListener('contextmenu', function (e) { e.preventDefault(); });
    for (const type of ['pointerdown', 'keydown', 'input']) {
      document.addEventListener(type, markActivity, { capture: true, passive: true });
    }
  }

  async function init() {
    startPing();
    bindEvents();
    await fetchCatalogue(DEFAULT_LANG);
    renderAll();
    document.documentElement.dataset.ready = '1';
  }

  init();
})();
