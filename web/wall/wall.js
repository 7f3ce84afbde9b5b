/* The wallboard (docs/wall.md): every queue's live figures, its service level over the last
 * 15 minutes and today against its goal, coloured by the model's thresholds, a sparkline of
 * its last hour, and the agents by state with their time in it. It reads the queues and the
 * agents every few seconds (at once when the events feed says something changed) and three
 * reports every ten; when its node goes away it goes on with another member. /wall/?queues=
 * a,b shows only those queues (and the agents serving them). */
'use strict';

(function () {
  const {el, clear, $, Endpoints, backoff} = window.contactd;
  const params = new URLSearchParams(location.search);

  const POLL_MS = 2000;      /* queues and agents */
  const REPORT_MS = 10000;   /* the three reports */
  const STALE_MS = 10000;    /* no fresh figures for this long: the page says so */
  const READ_TIMEOUT_MS = 5000;
  const REPORT_TIMEOUT_MS = 20000;
  const LIST_MAX = 10000;    /* queues and agents read at most */
  const FEED_DELAY_MS = 400; /* from an event to the read it causes */
  const SVG = 'http://www.w3.org/2000/svg';
  /* What changes a queue's or an agent's figures. */
  const FEED_KINDS = 'queued,offer,offer_cancel,connected,escalated,callback_offer,ended,' +
    'wrapup,agent_state,model';
  const FEED_ROLES = ['admin', 'supervisor'];   /* the roles that may open the events feed */
  const STATES = [['available', 'Available'], ['busy', 'Busy'], ['wrapup', 'Wrap-up'],
    ['away', 'Away']];

  const only = params.get('queues') ?
    new Set(params.get('queues').split(',').map((s) => s.trim()).filter(Boolean)) : null;

  const wall = {
    who: null,              /* GET /v1/session */
    queues: [],             /* GET /v1/queues: items */
    agents: [],             /* GET /v1/agents: items */
    slNow: new Map(),       /* queue -> service level over the last 15 minutes (0..1 or null) */
    slToday: new Map(),     /* queue -> service level today */
    spark: null,            /* {from, to, rows: Map(queue -> [{start, end, offered, sl}])} */
    updated: 0,             /* Date.now() when the queues and agents were last read */
    reportsAt: 0,           /* Date.now() when the reports were last read */
    polls: 0,               /* successful reads of queues and agents */
    source: '',             /* the node that answered last */
    ws: null,
    wsFailures: 0,
    wsTimer: null,
    soonTimer: null,
    tiles: new Map(),       /* queue -> tile element */
    running: false,
    run: 0,                 /* bumped at each sign-in: loops of an earlier one stop */
  };
  let endpoints = new Endpoints([]);

  /* ---- the node's clock ------------------------------------------------------------------ */

  /* A Date header is the node's clock cut to the second: the node's time was at least D when
   * the answer arrived and below D + 1 s when the request left. The latest bounds of a few
   * answers pin the difference to this browser's clock; times on the page (the longest wait,
   * time in state) are counted on it, so they tick evenly. */
  const skew = {lo: [], hi: [], value: 0};

  function noteDate(date, sent, received) {
    const d = Date.parse(date);
    if (!Number.isFinite(d)) return;
    skew.lo.push(d - received);
    skew.hi.push(d + 1000 - sent);
    if (skew.lo.length > 20) {
      skew.lo.shift();
      skew.hi.shift();
    }
    const lo = Math.max(...skew.lo), hi = Math.min(...skew.hi);
    skew.value = lo <= hi ? (lo + hi) / 2 : (d + 500) - received;
  }

  function now() {
    return Date.now() + skew.value;
  }

  /* ---- talking to the API ---------------------------------------------------------------- */

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function sleep(ms) {
    return new Promise((r) => setTimeout(r, ms));
  }

  async function once(base, method, path, body, timeout) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeout);
    const sent = Date.now();
    try {
      const res = await fetch(base + path, {
        method,
        credentials: 'include',
        cache: 'no-store',
        signal: ctl.signal,
        headers: body !== undefined ?
          {'Content-Type': 'application/json', 'X-Requested-With': 'contactd'} :
          {'X-Requested-With': 'contactd'},
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      const date = res.headers.get('Date');
      if (date) noteDate(date, sent, Date.now());
      let doc = null;
      try {
        doc = text ? JSON.parse(text) : null;
      } catch (e) {
        doc = null;
      }
      return {res, doc};
    } finally {
      clearTimeout(timer);
    }
  }

  /* One request to the current node. A node that does not answer, or answers 503 (no leader,
   * shutting down), makes the page move to the next member and try there, each member once;
   * a report that is refused 503 (the node is busy making others) is not retried elsewhere:
   * the next round asks again. Requests in flight together move the page once. */
  async function api(method, path, opts) {
    opts = opts || {};
    const report = !!opts.report;
    for (let attempt = 0; ; attempt++) {
      const base = endpoints.current();
      let got;
      try {
        got = await once(base, method, path, opts.body,
          report ? REPORT_TIMEOUT_MS : READ_TIMEOUT_MS);
      } catch (e) {
        if (attempt + 1 >= endpoints.list.length) {
          throw new ApiError(0, 'UNAVAILABLE', 'no node answers');
        }
        moveFrom(base);
        await sleep(backoff(attempt + 1));
        continue;
      }
      const {res, doc} = got;
      if (res.status === 503 && !report && attempt + 1 < endpoints.list.length) {
        moveFrom(base);
        await sleep(backoff(attempt + 1));
        continue;
      }
      if (!res.ok) {
        const err = (doc && doc.error) || {};
        throw new ApiError(res.status, err.code || 'HTTP', err.message || ('HTTP ' + res.status));
      }
      wall.source = new URL(base).host;
      return doc;
    }
  }

  function moveFrom(base) {
    if (endpoints.current() === base) {
      endpoints.next();
      linkStatus('Lost ' + new URL(base).host + '; trying ' +
        new URL(endpoints.current()).host + '…');
      connectFeed(true);
    }
  }

  function linkStatus(text) {
    $('#link').textContent = text;
  }

  /* ---- signing in ------------------------------------------------------------------------ */

  async function start() {
    try {
      wall.who = await api('GET', '/v1/session');
    } catch (e) {
      if (e.status === 401) return showSignin();
      linkStatus('The wallboard cannot reach the node: ' + e.message);
      setTimeout(start, 3000);
      return;
    }
    await enter();
  }

  function showSignin() {
    wall.running = false;
    clearTimeout(wall.wsTimer);
    if (wall.ws) {
      const old = wall.ws;
      wall.ws = null;
      old.close(1000);
    }
    $('#signin-view').hidden = false;
    $('#board').hidden = true;
    $('#signout').hidden = true;
    $('#user').focus();
  }

  async function onSignin(ev) {
    ev.preventDefault();
    $('#signin-error').textContent = '';
    try {
      await api('POST', '/v1/session',
        {body: {user: $('#user').value, password: $('#password').value}});
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

  async function enter() {
    $('#signin-view').hidden = true;
    $('#signout').hidden = false;
    if (!['admin', 'supervisor', 'reporter'].includes(wall.who.role)) {
      note('You are signed in as ' + (wall.who.user || wall.who.name) + ' (' + wall.who.role +
        '). The wallboard is for supervisors, reporters and admins.');
      return;
    }
    await findMembers();
    $('#board').hidden = false;
    wall.running = true;
    const run = ++wall.run;
    pollLoop(run);
    reportLoop(run);
    connectFeed(false);
  }

  function note(text) {
    $('#note').hidden = !text;
    $('#note').textContent = text;
  }

  /* Where to go when the node goes away: GET /v1/desk names the node file's public URLs or
   * every member's API address (supervisors and admins may read it); a reporter reads the
   * members from GET /v1/cluster. */
  async function findMembers() {
    if (wall.who.role !== 'reporter') {
      try {
        const desk = await api('GET', '/v1/desk');
        endpoints.replace(desk.endpoints || []);
        return;
      } catch (e) {
        if (e.status !== 403) return;
      }
    }
    try {
      const cluster = await api('GET', '/v1/cluster');
      endpoints.replace((cluster.members || []).filter((m) => m.api)
        .map((m) => location.protocol + '//' + m.api));
    } catch (e) {
      /* the page's own node alone, then */
    }
  }

  /* ---- reading: queues and agents, reports, the events feed ------------------------------ */

  let reading = null;
  let readAgain = false;

  /* Reads the queues and the agents; a call while a read is in flight makes one more read
   * after it, so a burst of events costs two reads at most. */
  function readLive() {
    if (reading) {
      readAgain = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          readAgain = false;
          const [queues, agents] = await Promise.all([api('GET', '/v1/queues?limit=' + LIST_MAX),
            api('GET', '/v1/agents?limit=' + LIST_MAX)]);
          wall.queues = queues.items || [];
          wall.agents = agents.items || [];
          wall.updated = Date.now();
          wall.polls++;
          render();
        } while (readAgain && wall.running);
      } catch (e) {
        failed(e);
      } finally {
        reading = null;
      }
    })();
    return reading;
  }

  function failed(e) {
    if (e.status === 401) {
      showSignin();
      return;
    }
    linkStatus('No figures: ' + e.message);
  }

  async function pollLoop(run) {
    if (!wall.running || run !== wall.run) return;
    await readLive();
    setTimeout(() => pollLoop(run), POLL_MS);
  }

  function totals(doc) {
    const out = new Map();
    for (const row of doc.totals || []) out.set(row.group, row.values.service_level);
    return out;
  }

  /* The three reports, one after the other: a node makes two at a time at most. */
  async function readReports() {
    const q = '&group=queue&figures=';
    try {
      const recent = await api('GET', '/v1/reports?period=last_15m&interval=total' + q +
        'service_level', {report: true});
      wall.slNow = totals(recent);
      const today = await api('GET', '/v1/reports?period=today&interval=total' + q +
        'service_level', {report: true});
      wall.slToday = totals(today);
      const hour = await api('GET', '/v1/reports?period=last_60m&interval=5m' + q +
        'offered,service_level', {report: true});
      const rows = new Map();
      for (const r of hour.rows || []) {
        if (!rows.has(r.group)) rows.set(r.group, []);
        rows.get(r.group).push({start: r.start, end: r.end, offered: r.values.offered,
          sl: r.values.service_level});
      }
      wall.spark = {from: hour.report.from, to: hour.report.to, rows};
      wall.reportsAt = Date.now();
      render();
    } catch (e) {
      if (e.status === 401) showSignin();
      /* else the figures stay as they were until the next round */
    }
  }

  async function reportLoop(run) {
    if (!wall.running || run !== wall.run) return;
    await readReports();
    setTimeout(() => reportLoop(run), REPORT_MS);
  }

  /* The events feed, for the roles that may open it: any change to a queue or an agent makes
   * the page read them at once rather than at the next poll. It follows the page's current
   * node; the polls alone keep the page right without it. */
  function connectFeed(moved) {
    if (!FEED_ROLES.includes(wall.who && wall.who.role) || !wall.running) return;
    clearTimeout(wall.wsTimer);
    if (wall.ws) {
      const old = wall.ws;
      wall.ws = null;
      old.close(1000);
    }
    if (moved) {
      wall.wsTimer = setTimeout(() => connectFeed(false), 250);
      return;
    }
    const url = endpoints.current().replace(/^http/, 'ws') + '/v1/events?after=now&kind=' +
      FEED_KINDS;
    let sock;
    try {
      sock = new WebSocket(url);
    } catch (e) {
      return feedLost();
    }
    wall.ws = sock;
    sock.onopen = () => {
      if (wall.ws !== sock) return;
      wall.wsFailures = 0;
      readLive();
    };
    sock.onmessage = () => {
      if (wall.ws === sock) soon();
    };
    sock.onclose = (ev) => {
      if (wall.ws !== sock) return;
      wall.ws = null;
      if (ev.code === 4401) return showSignin();
      feedLost();
    };
  }

  /* A read shortly after an event, one for a burst of them: a busy centre's feed never
   * makes the page read more than about twice a second. */
  function soon() {
    if (wall.soonTimer) return;
    wall.soonTimer = setTimeout(() => {
      wall.soonTimer = null;
      readLive();
    }, FEED_DELAY_MS);
  }

  function feedLost() {
    wall.wsFailures++;
    wall.wsTimer = setTimeout(() => connectFeed(false), backoff(wall.wsFailures));
  }

  /* ---- figures and their colours --------------------------------------------------------- */

  /* "0:42", "12:05", "1:02:05". */
  function clockText(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    const two = (n) => String(n).padStart(2, '0');
    return h > 0 ? h + ':' + two(m) + ':' + two(s) : m + ':' + two(s);
  }

  function spoken(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const m = Math.floor(seconds / 60), s = seconds % 60;
    return (m ? m + ' minutes ' : '') + s + ' seconds';
  }

  /* Waiting and the longest wait: more is worse, a threshold reached counts. */
  function levelMore(value, pair) {
    if (!pair || value === null || value === undefined) return '';
    if (pair.alarm !== null && value >= pair.alarm) return 'alarm';
    if (pair.warn !== null && value >= pair.warn) return 'warn';
    return pair.alarm !== null || pair.warn !== null ? 'ok' : '';
  }

  /* A service level in whole percent: below the alarm is an alarm, below the warning (the
   * queue's goal when the model sets none) a warning. */
  function levelSl(percent, q) {
    if (percent === null) return '';
    const t = (q.thresholds && q.thresholds.service_level) || {warn: null, alarm: null};
    const warn = t.warn !== null ? t.warn : (q.service_level ? q.service_level.percent : null);
    if (t.alarm !== null && percent < t.alarm) return 'alarm';
    if (warn !== null && percent < warn) return 'warn';
    return 'ok';
  }

  function worst(levels) {
    return levels.includes('alarm') ? 'alarm' : levels.includes('warn') ? 'warn' :
      levels.includes('ok') ? 'ok' : '';
  }

  const MARKS = {warn: 'warn', alarm: 'alarm'};
  const SPOKEN = {warn: 'warning', alarm: 'alarm'};

  /* Shows one figure: its text, its raw value and level (for tests and styles), the level as
   * a word beside it, and all of it spoken. */
  function setFig(tile, name, value, text, level, label) {
    const fig = $('[data-fig="' + name + '"]', tile);
    fig.dataset.level = level;
    fig.dataset.value = value === null ? '' : String(value);
    $('.value', fig).textContent = text;
    $('.mark', fig).textContent = MARKS[level] || '';
    fig.setAttribute('aria-label', $('.label', fig).textContent + ': ' + (label || text) +
      (SPOKEN[level] ? ' (' + SPOKEN[level] + ')' : ''));
  }

  function percentOf(ratio) {
    return ratio === null || ratio === undefined ? null : Math.round(ratio * 100);
  }

  function shown(q) {
    if (only) return only.has(q.name);
    return !q.retired || q.waiting > 0;
  }

  /* ---- rendering ------------------------------------------------------------------------- */

  function render() {
    const visible = wall.queues.filter(shown);
    const names = new Set(visible.map((q) => q.name));
    for (const [name, tile] of wall.tiles) {
      if (!names.has(name)) {
        tile.remove();
        wall.tiles.delete(name);
      }
    }
    const box = $('#queues');
    for (const q of visible) {
      let tile = wall.tiles.get(q.name);
      if (!tile) {
        tile = $('#tile-template').content.firstElementChild.cloneNode(true);
        tile.dataset.queue = q.name;
        $('.tile-name', tile).textContent = q.name;
        wall.tiles.set(q.name, tile);
      }
      box.appendChild(tile);   /* in the order the node lists the queues */
      renderTile(tile, q);
    }
    $('#no-queues').hidden = visible.length > 0;
    renderAgents();
    renderStatus();
  }

  function membersOf(q) {
    return wall.agents.filter((a) => (a.queues || []).includes(q.name));
  }

  function renderTile(tile, q) {
    const flags = [];
    if (q.retired) flags.push('retired');
    if (!q.open) flags.push('closed');
    if (q.paused) flags.push('paused');
    $('.tile-flags', tile).textContent = flags.join(' · ');
    const t = q.thresholds || {};
    setFig(tile, 'waiting', q.waiting, String(q.waiting), levelMore(q.waiting, t.waiting),
      q.waiting + ' contacts');
    renderLongest(tile, q);
    setFig(tile, 'ewt', Math.round(q.ewt_ms / 1000), clockText(q.ewt_ms / 1000), '',
      spoken(q.ewt_ms / 1000));
    for (const [name, map] of [['sl-now', wall.slNow], ['sl-today', wall.slToday]]) {
      const p = percentOf(map.get(q.name));
      setFig(tile, name, p, p === null ? '—' : p + '%', levelSl(p, q),
        p === null ? 'no data' : p + ' percent');
    }
    const sl = q.service_level || {};
    $('.sl-goal', tile).textContent = sl.percent !== undefined ? sl.percent + '%' : '';
    $('.sl-goal-label', tile).textContent = sl.target_s !== undefined ?
      'goal: answered in ' + sl.target_s + ' s' : 'goal';
    const members = membersOf(q);
    const count = (...states) => members.filter((a) => states.includes(a.state)).length;
    const staff = {staffed: q.staffed, available: q.available, busy: count('busy', 'wrapup'),
      away: count('away')};
    for (const [name, n] of Object.entries(staff)) {
      const item = $('[data-fig="' + name + '"]', tile);
      item.dataset.value = String(n);
      $('dd', item).textContent = String(n);
    }
    markTile(tile);
    renderSpark(tile, q);
  }

  /* A tile is as bad as its worst figure. */
  function markTile(tile) {
    const level = worst(Array.from(tile.querySelectorAll('.fig[data-level]'))
      .map((f) => f.dataset.level));
    tile.dataset.level = level;
    $('.tile-mark', tile).textContent = SPOKEN[level] || '';
  }

  function renderLongest(tile, q) {
    const t = q.thresholds || {};
    if (!q.oldest_enqueued || q.waiting === 0) {
      setFig(tile, 'longest', 0, '0:00', levelMore(0, t.longest_wait_s), 'none waiting');
      return;
    }
    const s = Math.max(0, Math.floor((now() - q.oldest_enqueued) / 1000));
    setFig(tile, 'longest', s, clockText(s), levelMore(s, t.longest_wait_s), spoken(s));
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  /* The last hour in 5-minute cells: a bar per cell for the contacts offered, a line for the
   * service level (0 at the bottom, 100 % at the top) and a dashed one at the goal. */
  function renderSpark(tile, q) {
    const box = $('.spark-svg', tile);
    const caption = $('.spark-caption', tile);
    const sp = wall.spark;
    if (!sp) {
      clear(box);
      caption.textContent = 'Last hour: reading…';
      return;
    }
    const W = 240, H = 48, span = Math.max(1, sp.to - sp.from);
    const cells = (sp.rows.get(q.name) || []).slice().sort((a, b) => a.start - b.start);
    const max = Math.max(1, ...cells.map((c) => c.offered || 0));
    const x = (t) => ((t - sp.from) / span) * W;
    const y = (pct) => H - (pct / 100) * (H - 2) - 1;
    const pic = svg('svg', {viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none',
      class: 'spark-pic', 'aria-hidden': 'true', focusable: 'false'});
    for (const c of cells) {
      const h = ((c.offered || 0) / max) * (H - 4);
      pic.appendChild(svg('rect', {class: 'spark-bar', x: x(c.start) + 1, y: H - h,
        width: Math.max(1, x(c.end) - x(c.start) - 2), height: h}));
    }
    const goal = q.service_level && q.service_level.percent;
    if (goal) {
      pic.appendChild(svg('line', {class: 'spark-goal', x1: 0, x2: W, y1: y(goal), y2: y(goal)}));
    }
    /* A step per cell with a service level; a cell without one breaks the line. */
    let points = [];
    const line = () => {
      if (points.length) {
        pic.appendChild(svg('polyline', {class: 'spark-line', points: points.join(' ')}));
      }
      points = [];
    };
    let end = null;
    for (const c of cells) {
      if (c.sl === null || c.sl === undefined || (end !== null && c.start !== end)) line();
      end = c.end;
      if (c.sl === null || c.sl === undefined) continue;
      const yy = y(c.sl * 100).toFixed(1);
      points.push(x(c.start).toFixed(1) + ',' + yy, x(c.end).toFixed(1) + ',' + yy);
    }
    line();
    clear(box).appendChild(pic);
    const offered = cells.reduce((n, c) => n + (c.offered || 0), 0);
    const last = cells.filter((c) => c.sl !== null && c.sl !== undefined).pop();
    caption.textContent = 'Last hour: ' + offered + ' offered' +
      (last ? ', latest 5 min ' + Math.round(last.sl * 100) + '%' : '');
    tile.querySelector('.spark').dataset.offered = String(offered);
    tile.querySelector('.spark').dataset.cells = String(cells.length);
  }

  function agentsShown() {
    if (!only) return wall.agents;
    return wall.agents.filter((a) => (a.queues || []).some((q) => only.has(q)));
  }

  function renderAgents() {
    const box = clear($('#agents'));
    const list = agentsShown();
    for (const [state, title] of STATES) {
      const here = list.filter((a) => a.state === state)
        .sort((a, b) => (a.state_since || 0) - (b.state_since || 0) ||
          a.name.localeCompare(b.name));
      const group = el('section', {class: 'agent-group', 'data-state': state,
        'aria-label': title + ': ' + here.length},
      el('h3', {}, title + ' ', el('span', {class: 'count'}, String(here.length))));
      const ul = el('ul', {class: 'agent-list'});
      for (const a of here) {
        ul.appendChild(el('li', {class: 'agent', 'data-agent': a.name, 'data-state': a.state,
          'data-since': a.state_since || 0},
        el('span', {class: 'agent-name'}, a.name),
        a.state === 'away' && a.reason ? el('span', {class: 'agent-reason'}, a.reason) : null,
        el('span', {class: 'agent-time'}, '')));
      }
      group.appendChild(ul);
      box.appendChild(group);
    }
    const offline = list.filter((a) => a.state === 'offline').length;
    box.appendChild(el('p', {class: 'agent-offline muted', 'data-state': 'offline'},
      offline + ' offline'));
    tickAgents();
  }

  function tickAgents() {
    const t = now();
    for (const li of document.querySelectorAll('#agents .agent')) {
      const since = Number(li.dataset.since);
      const s = since ? (t - since) / 1000 : 0;
      const time = li.querySelector('.agent-time');
      time.textContent = since ? clockText(s) : '';
      time.setAttribute('aria-label', since ? 'for ' + spoken(s) : '');
    }
  }

  function renderStatus() {
    const at = new Date(now()).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit',
      second: '2-digit'});
    if (wall.updated) linkStatus('Figures from ' + wall.source + ' · ' + at);
  }

  /* Every second: the clock, the longest waits and times in state tick on the node's clock;
   * figures older than STALE_MS are marked as such. */
  function tick() {
    $('#clock').textContent = new Date(now()).toLocaleTimeString([], {hour: '2-digit',
      minute: '2-digit', second: '2-digit'});
    if (!wall.running) return;
    for (const q of wall.queues) {
      const tile = wall.tiles.get(q.name);
      if (!tile) continue;
      renderLongest(tile, q);
      markTile(tile);
    }
    tickAgents();
    const age = Date.now() - wall.updated;
    const stale = wall.updated > 0 && age > STALE_MS;
    $('#stale').hidden = !stale;
    $('#board').classList.toggle('stale', stale);
    if (stale) {
      $('#stale').textContent = 'These figures are ' + Math.round(age / 1000) +
        ' s old: no node answers. Still trying.';
    }
  }

  function init() {
    $('#signin').addEventListener('submit', onSignin);
    $('#signout').addEventListener('click', onSignout);
    setInterval(tick, 1000);
    tick();
    start();
  }

  window.contactdWall = {state: () => wall, endpoints: () => endpoints, now};
  init();
})();
