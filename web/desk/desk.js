/* The agent desk (docs/desk.md): sign in, set a state, take offers, chat with several
 * customers at once, transfer, end and wrap up. It reads the agent's events from a
 * WebSocket on the node's event feed and acts through the JSON API; when its node goes
 * away it goes on with another one from the last event it saw. A supervisor opens
 * /desk/?agent=NAME to watch an agent's desk without acting. A supervisor or an admin also
 * sees the runbook runs under way (docs/continuity.md), approves one that waits for approval
 * and ends one by hand. */
'use strict';

(function () {
  const {el, clear, $, randomId, duration, clock, Endpoints, backoff} = window.contactd;
  const params = new URLSearchParams(location.search);

  const desk = {
    who: null,          /* GET /v1/session: {user, role, agent} */
    agent: '',          /* the agent this page shows */
    readOnly: false,
    config: null,       /* GET /v1/desk */
    info: null,         /* GET /v1/agents/NAME */
    offers: new Map(),  /* offer id -> {offer, contact, queue, channel, at, el, timer} */
    contacts: new Map(),/* contact id -> see contactOf() */
    selected: 0,
    lastId: '',
    ws: null,
    failures: 0,
    retryTimer: null,
    skew: 0,            /* the node's clock minus this browser's, ms */
  };
  let endpoints = new Endpoints([]);

  /* ---- talking to the API --------------------------------------------------------------- */

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /* One request to the current node; a network failure moves to the next node and tries
   * once more there (every write the desk makes may be repeated: messages carry their ids,
   * and an offer or a wrap-up already done is refused, then the state is read again). */
  async function api(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const base = endpoints.current();
      let res;
      try {
        res = await fetch(base + path, {
          method,
          credentials: 'include',
          cache: 'no-store',
          headers: body !== undefined ?
            {'Content-Type': 'application/json', 'X-Requested-With': 'contactd'} :
            {'X-Requested-With': 'contactd'},
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
      } catch (e) {
        if (attempt >= endpoints.list.length) throw new ApiError(0, 'UNAVAILABLE', 'no node answers');
        linkStatus('Connection lost; trying another node…');
        endpoints.next();
        await sleep(backoff(attempt + 1));
        continue;
      }
      const date = res.headers.get('Date');
      if (date && base === location.origin) desk.skew = Date.parse(date) + 500 - Date.now();
      const text = await res.text();
      let doc = null;
      try {
        doc = text ? JSON.parse(text) : null;
      } catch (e) {
        doc = null;
      }
      if (res.status === 503 && attempt < endpoints.list.length) {
        endpoints.next();
        await sleep(backoff(attempt + 1));
        continue;
      }
      if (!res.ok) {
        const err = (doc && doc.error) || {};
        throw new ApiError(res.status, err.code || 'HTTP', err.message || ('HTTP ' + res.status));
      }
      return doc;
    }
  }

  function sleep(ms) {
    return new Promise((r) => setTimeout(r, ms));
  }

  function now() {
    return Date.now() + desk.skew;
  }

  function linkStatus(text) {
    $('#link').textContent = text;
  }

  function flash(text) {
    linkStatus(text);
  }

  /* ---- signing in ------------------------------------------------------------------------ */

  async function start() {
    try {
      desk.who = await api('GET', '/v1/session');
    } catch (e) {
      if (e.status === 401) return showSignin();
      linkStatus('The desk cannot reach the node: ' + e.message);
      setTimeout(start, 3000);
      return;
    }
    await enter();
  }

  function showSignin() {
    $('#signin-view').hidden = false;
    $('#work').hidden = true;
    $('#presence').hidden = true;
    $('#signout').hidden = true;
    $('#user').focus();
  }

  async function onSignin(ev) {
    ev.preventDefault();
    $('#signin-error').textContent = '';
    try {
      await api('POST', '/v1/session', {user: $('#user').value, password: $('#password').value});
    } catch (e) {
      $('#signin-error').textContent = e.status === 401 ? 'The user name or password is wrong.' :
        e.status === 429 ? 'Too many attempts; wait a few minutes.' : e.message;
      $('#password').value = '';
      $('#password').focus();
      return;
    }
    $('#password').value = '';
    $('#signin-view').hidden = true;
    start();
  }

  async function onSignout() {
    try {
      await api('DELETE', '/v1/session');
    } catch (e) {
      /* signed out or not, the page forgets the session */
    }
    location.reload();
  }

  /* ---- runbooks: approval from the desk (supervisors and admins) ----------------------- */

  const RUNBOOKS_EVERY_MS = 5000;

  function runbookLine(r) {
    const acting = (r.steps || []).map((st) => st.do + ' ' + st.target + ' (' + st.state + ')')
      .join(', ');
    const li = el('li', {'data-run': String(r.run), 'data-state': r.state},
      el('span', {class: 'what'},
        el('strong', {}, r.runbook), ' run ' + r.run + ': ',
        r.state === 'awaiting' ? 'waits for approval' : 'acting',
        r.signal ? ', triggered by ' + r.signal : (r.actor ? ', run by ' + r.actor : ''),
        acting ? ' — ' + acting : ''));
    if (r.state === 'awaiting') {
      li.append(el('button', {type: 'button', class: 'approve', 'data-run': String(r.run),
        onclick: () => runbookAct(r.run, 'approve')}, 'Approve'));
    }
    li.append(el('button', {type: 'button', class: 'secondary end', 'data-run': String(r.run),
      onclick: () => runbookAct(r.run, 'end')}, r.state === 'awaiting' ? 'Decline' : 'End'));
    return li;
  }

  async function runbooksRefresh() {
    try {
      const doc = await api('GET', '/v1/runbooks/runs?state=open');
      const items = doc.items || [];
      clear($('#runbooks-list'));
      for (const r of items) $('#runbooks-list').append(runbookLine(r));
      $('#runbooks-none').hidden = items.length > 0;
      $('#runbooks-error').textContent = '';
    } catch (e) {
      $('#runbooks-error').textContent = 'Cannot read the runbook runs: ' + e.message;
    }
  }

  async function runbookAct(run, what) {
    try {
      await api('POST', '/v1/runbooks/runs/' + run + '/' + what,
        what === 'end' ? {note: 'ended from the desk'} : {});
    } catch (e) {
      $('#runbooks-error').textContent = 'Run ' + run + ': ' + e.message;
    }
    await runbooksRefresh();
  }

  function runbooksStart() {
    if (desk.who.role !== 'supervisor' && desk.who.role !== 'admin') return;
    $('#runbooks').hidden = false;
    runbooksRefresh();
    setInterval(runbooksRefresh, RUNBOOKS_EVERY_MS);
  }

  async function enter() {
    const who = desk.who;
    runbooksStart();
    const asked = params.get('agent');
    if (who.role === 'agent') {
      desk.agent = who.agent;
      desk.readOnly = false;
    } else if (asked) {
      desk.agent = asked;
      desk.readOnly = true;
    } else {
      $('#signin-view').hidden = true;
      $('#readonly').hidden = false;
      $('#readonly').textContent = 'You are signed in as ' + (who.user || who.name) + ' (' + who.role +
        '). Open /desk/?agent=NAME to watch an agent\'s desk.';
      $('#signout').hidden = false;
      return;
    }
    $('#who').textContent = (desk.readOnly ? 'Watching ' : 'Signed in as ') + desk.agent +
      (desk.readOnly ? ' (read only, as ' + (who.user || who.name) + ')' : '');
    $('#signout').hidden = false;
    if (desk.readOnly) {
      $('#readonly').hidden = false;
      $('#readonly').textContent = 'Read-only view of agent ' + desk.agent +
        '\'s desk: you see what the agent sees, and cannot act for them.';
    }
    desk.config = await api('GET', '/v1/desk');
    endpoints.replace(desk.config.endpoints || []);
    renderPresence();
    $('#work').hidden = false;
    await resync();
  }

  /* ---- state: read whole, then follow the events --------------------------------------- */

  /* Reads everything afresh: where the event feed is now (so nothing after it is missed),
   * the agent, its contacts and their transcripts; then follows the feed from there. */
  async function resync() {
    const feed = await api('GET', '/v1/events?after=now&wait_ms=0&agent=' +
      encodeURIComponent(desk.agent));
    desk.lastId = feed.last_id;
    desk.info = await api('GET', '/v1/agents/' + encodeURIComponent(desk.agent));
    renderAgent();
    const list = await api('GET', '/v1/contacts?agent=' + encodeURIComponent(desk.agent));
    const live = new Set();
    for (const c of list.items || []) {
      live.add(c.id);
      if (c.state === 'offered') {
        if (c.offer && !desk.offers.has(c.offer)) {
          showOffer({offer: c.offer, contact: c.id, queue: c.queue, channel: c.channel,
            at: c.ring_deadline || 0});
        }
        continue;
      }
      const k = contactOf(c.id);
      Object.assign(k, {channel: c.channel, queue: c.queue, state: c.state, attrs: c.attributes || {},
        arrived: c.arrived, answered: c.answered});
      await loadTranscript(k);
      renderTab(k);
      renderPanel(k);
    }
    for (const [id, k] of desk.contacts) {
      if (!live.has(id) && !k.ended) dropContact(id);
    }
    for (const [offer, o] of desk.offers) {
      if (!live.has(o.contact)) dropOffer(offer, '');
    }
    connectFeed();
  }

  function connectFeed() {
    clearTimeout(desk.retryTimer);
    if (desk.ws) {
      const old = desk.ws;
      desk.ws = null;
      old.close(1000);
    }
    const url = endpoints.current().replace(/^http/, 'ws') + '/v1/events?agent=' +
      encodeURIComponent(desk.agent) + '&after=' + encodeURIComponent(desk.lastId || 'now');
    let sock;
    try {
      sock = new WebSocket(url);
    } catch (e) {
      return feedLost();
    }
    desk.ws = sock;
    sock.onopen = () => {
      if (desk.ws !== sock) return;
      desk.failures = 0;
      desk.ready = true;
      linkStatus('Connected to ' + new URL(endpoints.current()).host);
    };
    sock.onmessage = (ev) => {
      if (desk.ws !== sock) return;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      onEvent(m);
    };
    sock.onclose = (ev) => {
      if (desk.ws !== sock) return;
      desk.ws = null;
      if (ev.code === 4410) {
        /* the node no longer keeps what followed our last event: read everything again */
        desk.lastId = '';
        resync().catch(feedLost);
        return;
      }
      if (ev.code === 4401) {
        location.reload();
        return;
      }
      feedLost();
    };
  }

  function feedLost() {
    desk.failures++;
    endpoints.next();
    linkStatus('Connection lost; reconnecting to ' + new URL(endpoints.current()).host + '…');
    desk.retryTimer = setTimeout(connectFeed, backoff(desk.failures));
  }

  function sendSignal(m) {
    if (!desk.readOnly && desk.ws && desk.ws.readyState === WebSocket.OPEN) {
      desk.ws.send(JSON.stringify(m));
    }
  }

  function onEvent(m) {
    if (m.id) desk.lastId = m.id;
    switch (m.kind) {
      case 'offer':
        if (m.agent === desk.agent) showOffer(m);
        break;
      case 'offer_cancel':
        dropOffer(m.offer, m.state === 'queued' ? 'The offer was withdrawn.' : '');
        break;
      case 'connected':
        for (const [offer, o] of desk.offers) if (o.contact === m.contact) dropOffer(offer, '');
        if (m.agent === desk.agent) connected(m);
        break;
      case 'message':
        onMessage(m);
        break;
      case 'wrapup':
        wrapup(m.contact);
        break;
      case 'ended':
        ended(m);
        break;
      case 'agent_state':
        if (m.agent === desk.agent) {
          desk.info.state = m.state;
          desk.info.reason = m.text || '';
          renderAgent();
        }
        break;
      case 'session_moved':
      case 'session_ended':
      case 'session_lost': {
        const k = desk.contacts.get(m.contact);
        if (k && !k.ended) {
          noteIn(k, m.kind === 'session_moved' ? 'The customer is back.' :
            'The customer\'s connection was lost; they may come back.');
        }
        break;
      }
      case 'signal':
        onSignal(m);
        break;
      default:
        break;
    }
  }

  /* ---- the agent's state ------------------------------------------------------------------ */

  function renderPresence() {
    const select = clear($('#state-select'));
    select.appendChild(el('option', {value: 'available'}, 'Available'));
    for (const r of desk.config.away_reasons || []) {
      select.appendChild(el('option', {value: 'away:' + r}, 'Away: ' + r));
    }
    if (!(desk.config.away_reasons || []).length) {
      select.appendChild(el('option', {value: 'away:break'}, 'Away: break'));
    }
    select.appendChild(el('option', {value: 'offline'}, 'Log out of the queues'));
    $('#presence').hidden = false;
    select.disabled = desk.readOnly;
    $('#state-apply').disabled = desk.readOnly;
  }

  function renderAgent() {
    const info = desk.info || {};
    const now = $('#state-now');
    const state = info.state || 'offline';
    now.dataset.state = state;
    const symbol = {available: '●', busy: '◆', wrapup: '◐', away: '○', offline: '×'}[state] || '';
    now.textContent = symbol + ' ' + state + (info.reason ? ' (' + info.reason + ')' : '');
    const select = $('#state-select');
    if (state === 'available' || state === 'busy' || state === 'wrapup') {
      select.value = info.presence === 'away' ? 'away:' + info.reason : 'available';
    } else if (state === 'away') {
      select.value = 'away:' + info.reason;
    } else {
      select.value = 'offline';
    }
    if (select.value === '' && info.reason) {
      /* a reason of the system's (ring-no-answer), not one to choose */
      select.appendChild(el('option', {value: 'away:' + info.reason, disabled: true},
        'Away: ' + info.reason));
      select.value = 'away:' + info.reason;
    }
  }

  async function onPresence(ev) {
    ev.preventDefault();
    const v = $('#state-select').value;
    const path = '/v1/agents/' + encodeURIComponent(desk.agent);
    try {
      if (v === 'offline') {
        await api('POST', path + '/logout', {});
      } else {
        const body = v === 'available' ? {presence: 'available'} :
          {presence: 'away', reason: v.slice(5)};
        const offline = !desk.info || desk.info.state === 'offline';
        await api('POST', path + (offline ? '/login' : '/state'), body);
      }
      desk.info = await api('GET', path);
      renderAgent();
    } catch (e) {
      flash('The state could not be set: ' + e.message);
    }
  }

  /* ---- offers -------------------------------------------------------------------------- */

  async function showOffer(m) {
    if (desk.offers.has(m.offer)) return;
    const o = {offer: m.offer, contact: m.contact, queue: m.queue, channel: m.channel, at: m.at};
    desk.offers.set(m.offer, o);
    const count = el('span', {class: 'countdown'});
    const facts = el('dl', {});
    const accept = el('button', {type: 'button', onclick: () => answer(o, 'accept'),
      disabled: desk.readOnly}, 'Accept');
    const reject = el('button', {type: 'button', class: 'secondary',
      onclick: () => answer(o, 'reject'), disabled: desk.readOnly}, 'Reject');
    o.el = el('section', {class: 'offer', role: 'alertdialog', 'aria-labelledby': 'offer-' + o.offer,
      'data-offer': o.offer, 'data-contact': o.contact},
      el('h2', {id: 'offer-' + o.offer}, 'New ' + (o.channel || 'contact') + ' from ' + (o.queue || 'a queue')),
      el('p', {}, 'Answer within ', count), facts,
      el('div', {class: 'buttons'}, accept, reject));
    $('#offers').appendChild(o.el);
    const tick = () => {
      const left = o.at ? Math.max(0, Math.ceil((o.at - now()) / 1000)) : 0;
      count.textContent = left + ' s';
      count.setAttribute('aria-label', left + ' seconds left');
      if (o.at && left === 0) count.textContent = 'time is up';
    };
    tick();
    o.timer = setInterval(tick, 500);
    if (!desk.readOnly) accept.focus();
    try {
      const c = await api('GET', '/v1/contacts/' + o.contact);
      const waited = c.arrived ? duration((now() - c.arrived) / 1000) : '';
      appendFacts(facts, [['Channel', c.channel], ['Queue', c.queue], ['Waiting', waited]]
        .concat(Object.entries(c.attributes || {})));
    } catch (e) {
      /* the offer may be gone already */
    }
  }

  function dropOffer(offer, why) {
    const o = desk.offers.get(offer);
    if (!o) return;
    clearInterval(o.timer);
    o.el.remove();
    desk.offers.delete(offer);
    if (why) flash(why);
  }

  async function answer(o, how) {
    try {
      await api('POST', '/v1/offers/' + o.offer + '/' + how, {agent: desk.agent});
      if (how === 'reject') dropOffer(o.offer, '');
    } catch (e) {
      dropOffer(o.offer, 'The offer is gone: ' + e.message);
    }
  }

  function appendFacts(dl, pairs) {
    for (const [k, v] of pairs) {
      if (v === undefined || v === null || v === '') continue;
      dl.appendChild(el('dt', {}, k));
      dl.appendChild(el('dd', {}, String(v)));
    }
  }

  /* ---- contacts in hand ------------------------------------------------------------------- */

  function contactOf(id) {
    let k = desk.contacts.get(id);
    if (!k) {
      k = {id, channel: '', queue: '', state: '', attrs: {}, messages: [], seq: 0, ended: false,
        wrapup: false, tab: null, panel: null, seenSent: 0, typingTimer: null};
      desk.contacts.set(id, k);
    }
    return k;
  }

  async function connected(m) {
    const k = contactOf(m.contact);
    k.state = 'connected';
    k.channel = m.channel;
    k.queue = m.queue || k.queue;
    try {
      const c = await api('GET', '/v1/contacts/' + m.contact);
      Object.assign(k, {attrs: c.attributes || {}, arrived: c.arrived, answered: c.answered,
        queue: c.queue, channel: c.channel});
    } catch (e) {
      /* shown with what the event said */
    }
    await loadTranscript(k);
    renderTab(k);
    renderPanel(k);
    select(k.id, !desk.readOnly);
  }

  async function loadTranscript(k) {
    if (k.channel !== 'chat') return;
    try {
      const doc = await api('GET', '/v1/contacts/' + k.id + '/messages?after=' + k.seq);
      for (const m of doc.items || []) addMessage(k, m);
    } catch (e) {
      noteIn(k, 'The conversation could not be read: ' + e.message);
    }
  }

  function addMessage(k, m) {
    if (m.seq <= k.seq) return;
    k.seq = m.seq;
    const local = m.from === 'agent' ? k.messages.find((x) => x.id === m.id && !x.seq) : null;
    if (local) {
      local.seq = m.seq;
      local.at = m.at;
      local.mark = 'sent';
    } else {
      k.messages.push({seq: m.seq, from: m.from, id: m.id, text: m.text, at: m.at,
        mark: m.from === 'agent' ? 'sent' : ''});
    }
    markDelivered(k);
    if (m.from === 'customer') {
      showTyping(k, false);
      if (desk.selected === k.id && document.visibilityState === 'visible') markSeen(k);
      else k.unread = true;
    }
    renderTranscript(k);
    renderTab(k);
  }

  function onMessage(m) {
    const k = desk.contacts.get(m.contact);
    if (!k || k.ended) return;
    addMessage(k, {seq: m.seq, from: m.from, id: m.msg_id, text: m.text, at: m.at});
  }

  function markSeen(k) {
    k.unread = false;
    if (k.seq > k.seenSent) {
      k.seenSent = k.seq;
      sendSignal({t: 'seen', contact: k.id, seq: k.seq});
    }
  }

  function onSignal(m) {
    const k = desk.contacts.get(m.contact);
    if (!k || m.side !== 'customer') return;
    if (m.t === 'typing') showTyping(k, m.on);
    if (m.t === 'seen') {
      /* the customer's page has shown up to m.seq; a message whose seq the desk learns
       * later is marked then */
      k.customerSeen = Math.max(k.customerSeen || 0, m.seq);
      markDelivered(k);
      renderTranscript(k);
    }
  }

  function markDelivered(k) {
    for (const msg of k.messages) {
      if (msg.from === 'agent' && msg.seq && msg.seq <= (k.customerSeen || 0)) {
        msg.mark = 'delivered';
      }
    }
  }

  function showTyping(k, on) {
    clearTimeout(k.typingTimer);
    if (k.panel) $('.typing', k.panel).textContent = on ? 'The customer is typing…' : '';
    if (on) k.typingTimer = setTimeout(() => showTyping(k, false), 6000);
  }

  function noteIn(k, text) {
    k.messages.push({seq: 0, from: 'note', text, at: now()});
    renderTranscript(k);
  }

  function wrapup(id) {
    const k = desk.contacts.get(id);
    if (!k) return;
    k.state = 'wrapup';
    k.wrapup = true;
    renderPanel(k);
    renderTab(k);
    if (desk.selected === id && !desk.readOnly) $('.disposition', k.panel).focus();
  }

  function ended(m) {
    const k = desk.contacts.get(m.contact);
    if (!k) return;
    if (k.state === 'connected') noteIn(k, 'The chat ended (' + (m.state || 'ended') + ').');
    k.ended = true;
    dropContact(m.contact);
  }

  function dropContact(id) {
    const k = desk.contacts.get(id);
    if (!k) return;
    if (k.tab) k.tab.remove();
    if (k.panel) k.panel.remove();
    desk.contacts.delete(id);
    if (desk.selected === id) {
      desk.selected = 0;
      const next = desk.contacts.keys().next();
      if (!next.done) select(next.value, false);
    }
    $('#no-contacts').hidden = desk.contacts.size > 0;
  }

  /* ---- tabs and panels ------------------------------------------------------------------ */

  function title(k) {
    const name = k.attrs.name || k.attrs.email || ('contact ' + k.id);
    return name;
  }

  function renderTab(k) {
    if (!k.tab) {
      k.tab = el('button', {type: 'button', role: 'tab', id: 'tab-' + k.id,
        'aria-controls': 'panel-' + k.id, 'aria-selected': 'false', tabindex: '-1',
        'data-contact': k.id, onclick: () => select(k.id, true), onkeydown: onTabKey});
      $('#tabs').appendChild(k.tab);
    }
    clear(k.tab);
    k.tab.appendChild(document.createTextNode(title(k)));
    const badge = k.state === 'wrapup' ? 'wrap-up' : k.unread ? 'new message' : k.channel;
    k.tab.appendChild(el('span', {class: 'badge'}, badge));
    $('#no-contacts').hidden = true;
    if (!desk.selected) select(k.id, false);
  }

  function onTabKey(ev) {
    const tabs = Array.from(document.querySelectorAll('#tabs [role="tab"]'));
    const i = tabs.indexOf(ev.currentTarget);
    let j = -1;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowRight') j = (i + 1) % tabs.length;
    if (ev.key === 'ArrowUp' || ev.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    if (ev.key === 'Home') j = 0;
    if (ev.key === 'End') j = tabs.length - 1;
    if (j >= 0) {
      ev.preventDefault();
      select(Number(tabs[j].dataset.contact), true);
    }
  }

  function select(id, focus) {
    desk.selected = id;
    for (const [cid, k] of desk.contacts) {
      const on = cid === id;
      if (k.tab) {
        k.tab.setAttribute('aria-selected', on ? 'true' : 'false');
        k.tab.tabIndex = on ? 0 : -1;
      }
      if (k.panel) k.panel.hidden = !on;
    }
    const k = desk.contacts.get(id);
    if (!k) return;
    if (focus && k.tab) k.tab.focus();
    markSeen(k);
    renderTab(k);
  }

  function renderPanel(k) {
    if (!k.panel) {
      const t = $('#panel-template').content.firstElementChild.cloneNode(true);
      t.id = 'panel-' + k.id;
      t.setAttribute('aria-labelledby', 'tab-' + k.id);
      t.dataset.contact = k.id;
      t.hidden = desk.selected !== k.id;
      const text = $('.compose textarea', t);
      text.id = 'text-' + k.id;
      $('.compose label', t).setAttribute('for', text.id);
      const disp = $('.disposition', t);
      disp.id = 'disp-' + k.id;
      $('.disp-label', t).setAttribute('for', disp.id);
      const notes = $('.notes', t);
      notes.id = 'notes-' + k.id;
      $('.notes-label', t).setAttribute('for', notes.id);
      $('.compose', t).addEventListener('submit', (ev) => onSend(ev, k));
      text.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' && !ev.shiftKey) onSend(ev, k);
      });
      text.addEventListener('input', () => onTyping(k));
      $('.end', t).addEventListener('click', () => onEnd(k));
      $('.why', t).addEventListener('click', (ev) => onWhy(k, ev.currentTarget));
      $('.transfer', t).addEventListener('submit', (ev) => onTransfer(ev, k));
      $('.wrapup', t).addEventListener('submit', (ev) => onWrapup(ev, k));
      for (const d of [''].concat(desk.config.dispositions || [])) {
        disp.appendChild(el('option', {value: d}, d || '(none)'));
      }
      const list = 'transfer-list-' + k.id;
      const datalist = el('datalist', {id: list});
      for (const q of desk.config.queues || []) datalist.appendChild(el('option', {value: q}));
      t.appendChild(datalist);
      $('.transfer-to', t).setAttribute('list', list);
      if (desk.readOnly) {
        for (const c of t.querySelectorAll('button, textarea, input, select')) {
          if (!c.classList.contains('why')) c.disabled = true;
        }
      }
      $('#panels').appendChild(t);
      k.panel = t;
      loadEarlier(k);
    }
    const p = k.panel;
    $('.panel-title', p).textContent = title(k) + ' · ' + (k.channel || '') + ' · ' + (k.queue || '');
    $('.panel-state', p).textContent = k.state === 'wrapup' ? 'Wrap-up: choose a disposition, then Done.' :
      k.answered ? 'Connected since ' + clock(k.answered) : '';
    $('.compose', p).hidden = k.channel !== 'chat' || k.state !== 'connected';
    $('.end', p).hidden = k.state !== 'connected';
    $('.transfer', p).hidden = k.state !== 'connected';
    $('.wrapup', p).hidden = k.state !== 'wrapup';
    const facts = clear($('.facts', p));
    appendFacts(facts, [['Contact', k.id], ['Channel', k.channel], ['Queue', k.queue],
      ['Arrived', k.arrived ? clock(k.arrived) : '']].concat(Object.entries(k.attrs || {})));
    renderTranscript(k);
  }

  const MARKS = {sending: ['…', 'Sending'], sent: ['✓', 'Sent'], delivered: ['✓✓', 'Delivered'],
    failed: ['!', 'Not sent']};

  function renderTranscript(k) {
    if (!k.panel) return;
    const list = clear($('.transcript', k.panel));
    for (const m of k.messages) {
      if (m.from === 'note') {
        list.appendChild(el('li', {class: 'msg note'}, m.text));
        continue;
      }
      const mine = m.from === 'agent';
      const mark = mine && MARKS[m.mark] ? el('span', {class: 'mark', title: MARKS[m.mark][1]},
        ' ' + MARKS[m.mark][0], el('span', {class: 'sr-only'}, ' ' + MARKS[m.mark][1])) : null;
      list.appendChild(el('li', {class: 'msg' + (mine ? ' mine' : ''), 'data-seq': m.seq || '',
        'data-from': m.from, 'data-mark': m.mark || ''},
        el('span', {class: 'meta'}, (mine ? 'You' : 'Customer') + (m.at ? ' · ' + clock(m.at) : ''), mark),
        el('span', {class: 'text'}, m.text)));
    }
    list.scrollTop = list.scrollHeight;
  }

  async function loadEarlier(k) {
    const ul = $('.earlier', k.panel);
    try {
      const doc = await api('GET', '/v1/contacts/' + k.id + '/earlier');
      clear(ul);
      for (const h of doc.items || []) {
        ul.appendChild(el('li', {}, clock(h.arrived) + ' ' + new Date(h.arrived).toLocaleDateString() +
          ' · ' + h.channel + ' · ' + h.queue + ' · ' + h.state +
          (h.disposition ? ' · ' + h.disposition : '')));
      }
      if (!ul.firstChild) ul.appendChild(el('li', {class: 'muted'}, 'None.'));
    } catch (e) {
      clear(ul).appendChild(el('li', {class: 'muted'}, 'Not available (' + e.message + ').'));
    }
  }

  /* ---- acting --------------------------------------------------------------------------- */

  async function onSend(ev, k) {
    ev.preventDefault();
    const box = $('.compose textarea', k.panel);
    const text = box.value.trim();
    if (!text) return;
    const id = 'a-' + randomId(12);
    const local = {seq: 0, from: 'agent', id, text, at: now(), mark: 'sending'};
    k.messages.push(local);
    renderTranscript(k);
    box.value = '';
    k.typingSent = 0;
    sendSignal({t: 'typing', contact: k.id, on: false});
    try {
      const doc = await api('POST', '/v1/contacts/' + k.id + '/messages', {id, text});
      if (!local.seq && doc && doc.seq) {
        if (doc.seq > k.seq) k.seq = doc.seq;
        local.seq = doc.seq;
        local.mark = 'sent';
        markDelivered(k);
      }
    } catch (e) {
      local.mark = 'failed';
      flash('The message was not sent: ' + e.message);
    }
    renderTranscript(k);
    box.focus();
  }

  function onTyping(k) {
    const t = Date.now();
    if (!k.typingSent || t - k.typingSent > 3000) {
      k.typingSent = t;
      sendSignal({t: 'typing', contact: k.id, on: true});
    }
  }

  async function onEnd(k) {
    try {
      await api('POST', '/v1/contacts/' + k.id + '/end', {});
    } catch (e) {
      flash('The contact could not be ended: ' + e.message);
    }
  }

  async function onWhy(k, button) {
    const pre = $('.explain', k.panel);
    if (!pre.hidden) {
      pre.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    try {
      const doc = await api('GET', '/v1/contacts/' + k.id + '/explain');
      pre.textContent = doc.explanation || doc.text || JSON.stringify(doc, null, 2);
    } catch (e) {
      pre.textContent = 'No explanation: ' + e.message;
    }
    pre.hidden = false;
    button.setAttribute('aria-expanded', 'true');
  }

  async function onTransfer(ev, k) {
    ev.preventDefault();
    const kind = $('.transfer-kind', k.panel).value;
    const to = $('.transfer-to', k.panel).value.trim();
    if (!to) return;
    try {
      await api('POST', '/v1/contacts/' + k.id + '/transfer', {[kind]: to});
      noteIn(k, 'Transferred to ' + kind + ' ' + to + '.');
      k.ended = true;
      setTimeout(() => dropContact(k.id), 1500);
    } catch (e) {
      flash('The transfer failed: ' + e.message);
    }
  }

  async function onWrapup(ev, k) {
    ev.preventDefault();
    const body = {};
    const d = $('.disposition', k.panel).value;
    const notes = $('.notes', k.panel).value;
    if (d) body.disposition = d;
    if (notes) body.notes = notes;
    try {
      await api('POST', '/v1/contacts/' + k.id + '/wrapup-done', body);
      $('.wrapup-error', k.panel).textContent = '';
    } catch (e) {
      $('.wrapup-error', k.panel).textContent = e.message;
      $('.disposition', k.panel).focus();
    }
  }

  function init() {
    $('#signin').addEventListener('submit', onSignin);
    $('#signout').addEventListener('click', onSignout);
    $('#presence').addEventListener('submit', onPresence);
    document.addEventListener('visibilitychange', () => {
      const k = desk.contacts.get(desk.selected);
      if (k && document.visibilityState === 'visible') markSeen(k);
    });
    start();
  }

  window.contactdDesk = {state: () => desk, endpoints: () => endpoints};
  init();
})();
