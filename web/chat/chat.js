/* The customer's chat page (docs/chat.md): the pre-chat form, then the conversation over
 * the node's WebSocket, reconnecting to another node when its node goes away. What the
 * customer and the agent type is only ever shown as text. */
'use strict';

(function () {
  const {el, clear, $, randomId, duration, clock, Endpoints, backoff} = window.contactd;
  const STORE = 'contactd.chat';
  const params = new URLSearchParams(location.search);

  let config = null;
  let endpoints = null;
  let ws = null;
  let failures = 0;
  let retryTimer = null;
  let typingSent = 0;
  let typingTimer = null;
  /* The chat, kept in the tab's session storage so that a reload resumes it:
   * {entry, secret, form, contact, seq, seen, messages: [{seq, from, id, text, at, agent, mark}],
   *  pending: [{id, text}], state, ended} */
  let chat = load();

  function load() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE)) || null;
    } catch (e) {
      return null;
    }
  }

  function save() {
    if (chat) sessionStorage.setItem(STORE, JSON.stringify(chat));
    else sessionStorage.removeItem(STORE);
  }

  function show(view) {
    for (const id of ['form-view', 'talk-view', 'ended-view']) {
      $('#' + id).hidden = id !== view;
    }
  }

  function status(text) {
    $('#status').textContent = text;
  }

  /* ---- the pre-chat form ---------------------------------------------------------------- */

  function entryOf(name) {
    const entries = (config && config.entries) || [];
    return entries.find((e) => e.name === name) || entries[0] || null;
  }

  function renderForm() {
    const entry = entryOf(params.get('entry'));
    const box = clear($('#fields'));
    if (!entry) {
      box.appendChild(el('p', {}, 'Chat is not available at the moment.'));
      $('#start').disabled = true;
      return;
    }
    for (const f of entry.fields) {
      const id = 'f-' + f.key;
      box.appendChild(el('label', {for: id}, f.label, f.required ? '' : ' (optional)'));
      let input;
      if (f.type === 'select') {
        input = el('select', {id, name: f.key, required: f.required},
          el('option', {value: ''}, 'Choose…'),
          (f.options || []).map((o) => el('option', {value: o}, o)));
      } else if (f.type === 'textarea') {
        input = el('textarea', {id, name: f.key, required: f.required, maxlength: f.max, rows: 3});
      } else {
        const type = f.type === 'email' ? 'email' : f.type === 'phone' ? 'tel' : 'text';
        const auto = f.type === 'email' ? 'email' : f.type === 'phone' ? 'tel' :
          f.key === 'name' ? 'name' : 'off';
        input = el('input', {id, name: f.key, type, required: f.required, maxlength: f.max,
          autocomplete: auto});
      }
      input.setAttribute('aria-describedby', id + '-error');
      box.appendChild(input);
      box.appendChild(el('p', {id: id + '-error', class: 'error', role: 'alert'}));
    }
    $('#form-title').textContent = entry.title || 'Before we start';
    show('form-view');
    const first = box.querySelector('input, select, textarea');
    if (first) first.focus();
  }

  function fieldError(key, message) {
    const p = $('#f-' + CSS.escape(key) + '-error');
    if (p) {
      p.textContent = message;
      const input = $('#f-' + CSS.escape(key));
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } else {
      $('#form-error').textContent = message;
    }
  }

  function onStart(ev) {
    ev.preventDefault();
    const entry = entryOf(params.get('entry'));
    const form = {};
    for (const p of document.querySelectorAll('#fields .error')) p.textContent = '';
    $('#form-error').textContent = '';
    for (const f of entry.fields) {
      const input = $('#f-' + CSS.escape(f.key));
      input.removeAttribute('aria-invalid');
      const value = input.value.trim();
      if (f.required && !value) {
        fieldError(f.key, f.label + ' is required.');
        return;
      }
      if (value) form[f.key] = value;
    }
    chat = {entry: entry.name, secret: randomId(32), form, contact: 0, seq: 0, seen: 0,
      messages: [], pending: [], state: 'starting', ended: false};
    save();
    startTalk();
  }

  /* ---- the conversation ---------------------------------------------------------------- */

  function startTalk() {
    show('talk-view');
    renderTranscript();
    renderState();
    connect();
    $('#text').focus();
  }

  function connect() {
    clearTimeout(retryTimer);
    const url = endpoints.current().replace(/^http/, 'ws') + '/chat/ws';
    status(failures ? 'Reconnecting…' : 'Connecting…');
    let sock;
    try {
      sock = new WebSocket(url);
    } catch (e) {
      return retry();
    }
    ws = sock;
    sock.onopen = () => {
      if (ws !== sock) return;
      if (chat.contact) {
        send({t: 'resume', secret: chat.secret, contact: chat.contact, after: chat.seq});
      } else {
        send({t: 'hello', entry: chat.entry, secret: chat.secret, form: chat.form});
      }
    };
    sock.onmessage = (ev) => {
      if (ws !== sock) return;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      receive(m);
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      ws = null;
      if (!chat || chat.ended) return;
      if (ev.code === 4404) {
        finish('This chat is no longer available.');
      } else if (ev.code === 4409) {
        status('This chat continues in another window.');
      } else if (ev.code === 1013 || ev.code === 1008 || ev.code === 1009) {
        status('The chat service refused the connection (' + (ev.reason || ev.code) + '); retrying…');
        retry();
      } else {
        retry();
      }
    };
  }

  function retry() {
    failures++;
    if (failures > 1) endpoints.next();
    status('Connection lost; reconnecting…');
    retryTimer = setTimeout(connect, backoff(failures));
  }

  function send(m) {
    if (ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify(m));
      return true;
    }
    return false;
  }

  function receive(m) {
    switch (m.t) {
      case 'welcome':
        failures = 0;
        chat.contact = m.contact;
        save();
        status('');
        for (const p of chat.pending) send({t: 'msg', id: p.id, text: p.text});
        break;
      case 'state':
        chat.state = m.state;
        chat.queue = m.queue;
        chat.agent = m.agent;
        chat.position = m.position;
        chat.ewt_s = m.ewt_s;
        if (m.state !== 'queued') $('#offer').hidden = true;
        save();
        renderState();
        break;
      case 'msg':
        addMessage(m);
        break;
      case 'sent':
        markSent(m.id, m.seq);
        break;
      case 'seen':
        /* the agent's page has shown up to m.seq; a message whose seq this page learns
         * later (its `sent` may come after) is marked then */
        chat.agentSeen = Math.max(chat.agentSeen || 0, m.seq);
        markDelivered();
        save();
        renderTranscript();
        break;
      case 'typing':
        showTyping(m.on);
        break;
      case 'offer':
        if (m.kind === 'callback') $('#offer').hidden = false;
        break;
      case 'left':
        note('The agent left the chat. You are back in line.');
        break;
      case 'ended':
        finish(endedText(m.reason));
        break;
      case 'error':
        onError(m);
        break;
      default:
        break;
    }
  }

  function onError(m) {
    if (m.field && !chat.contact) {
      /* the form was refused: back to it */
      const form = chat.form;
      chat = null;
      save();
      renderForm();
      for (const [k, v] of Object.entries(form)) {
        const input = $('#f-' + CSS.escape(k));
        if (input) input.value = v;
      }
      fieldError(m.field, m.message);
      if (ws) ws.close(1000);
      return;
    }
    if (m.id) {
      const p = chat.pending.find((x) => x.id === m.id);
      chat.pending = chat.pending.filter((x) => x.id !== m.id);
      const msg = chat.messages.find((x) => x.id === m.id && x.from === 'customer');
      if (msg) msg.mark = 'failed';
      save();
      renderTranscript();
      status('A message could not be sent: ' + m.message + (p ? '' : ''));
      return;
    }
    status(m.message);
  }

  function endedText(reason) {
    switch (reason) {
      case 'customer': return 'You ended the chat.';
      case 'customer_gone': return 'The chat ended because you were away too long.';
      case 'callback': return 'We will get back to you. You can close this page.';
      case 'rejected': return 'Sorry, we cannot take your chat now.';
      case 'timed_out': return 'Sorry, nobody could take your chat in time.';
      default: return 'The chat has ended.';
    }
  }

  function finish(text) {
    chat.ended = true;
    save();
    clearTimeout(retryTimer);
    if (ws) ws.close(1000);
    note(text);
    $('#ended-text').textContent = text;
    $('#ended-view').hidden = false;
    $('#compose').hidden = true;
    $('#end').hidden = true;
    $('#wait').textContent = '';
    $('#offer').hidden = true;
    status('');
    $('#again').focus();
  }

  function addMessage(m) {
    if (m.seq <= chat.seq) return; /* already shown: a resume sends from `after` on */
    chat.seq = m.seq;
    const mine = m.from === 'customer';
    const local = mine ? chat.messages.find((x) => x.id === m.id && x.from === 'customer') : null;
    if (local) {
      local.seq = m.seq;
      local.at = m.at;
      if (local.mark !== 'delivered') local.mark = 'sent';
      chat.pending = chat.pending.filter((x) => x.id !== m.id);
    } else {
      chat.messages.push({seq: m.seq, from: m.from, id: m.id, text: m.text, at: m.at,
        agent: m.agent, mark: mine ? 'sent' : ''});
    }
    markDelivered();
    if (!mine) {
      showTyping(false);
      if (document.visibilityState === 'visible') {
        chat.seen = m.seq;
        send({t: 'seen', seq: m.seq});
      }
    }
    save();
    renderTranscript();
  }

  function markDelivered() {
    for (const msg of chat.messages) {
      if (msg.from === 'customer' && msg.seq && msg.seq <= (chat.agentSeen || 0)) {
        msg.mark = 'delivered';
      }
    }
  }

  function markSent(id, seq) {
    const msg = chat.messages.find((x) => x.id === id && x.from === 'customer');
    if (msg) {
      if (!msg.seq) msg.seq = seq;
      if (msg.mark !== 'delivered') msg.mark = 'sent';
    }
    chat.pending = chat.pending.filter((x) => x.id !== id);
    markDelivered();
    save();
    renderTranscript();
  }

  function note(text) {
    chat.messages.push({seq: 0, from: 'note', text, at: Date.now()});
    save();
    renderTranscript();
  }

  const MARKS = {
    sending: ['…', 'Sending'],
    sent: ['✓', 'Sent'],
    delivered: ['✓✓', 'Delivered'],
    failed: ['!', 'Not sent'],
  };

  function renderTranscript() {
    const list = clear($('#transcript'));
    for (const m of chat.messages) {
      if (m.from === 'note') {
        list.appendChild(el('li', {class: 'msg note'}, m.text));
        continue;
      }
      const mine = m.from === 'customer';
      const who = mine ? 'You' : (m.agent ? 'Agent' : 'Agent');
      const mark = mine && MARKS[m.mark] ? el('span', {class: 'mark', title: MARKS[m.mark][1]},
        MARKS[m.mark][0], el('span', {class: 'sr-only'}, ' ' + MARKS[m.mark][1])) : null;
      list.appendChild(el('li', {class: 'msg' + (mine ? ' mine' : ''), 'data-seq': m.seq || '',
        'data-id': m.id || '', 'data-mark': m.mark || ''},
        el('span', {class: 'meta'}, who + (m.at ? ' · ' + clock(m.at) : ''), mark),
        el('span', {class: 'text'}, m.text)));
    }
    list.scrollTop = list.scrollHeight;
  }

  function renderState() {
    const wait = $('#wait');
    switch (chat.state) {
      case 'queued': {
        const parts = [];
        if (chat.position) parts.push('You are number ' + chat.position + ' in line.');
        else parts.push('You are in line.');
        if (chat.ewt_s !== undefined && chat.ewt_s !== null) {
          parts.push('Estimated wait: ' + duration(chat.ewt_s) + '.');
        }
        wait.textContent = parts.join(' ');
        $('#title').textContent = 'Waiting for an agent';
        break;
      }
      case 'offered':
        wait.textContent = 'An agent is about to join.';
        break;
      case 'connected':
        wait.textContent = '';
        $('#title').textContent = 'Chatting with ' + (chat.agent || 'an agent');
        break;
      default:
        wait.textContent = chat.state === 'starting' ? 'Starting the chat…' : '';
    }
  }

  function showTyping(on) {
    clearTimeout(typingTimer);
    $('#typing').textContent = on ? 'The agent is typing…' : '';
    if (on) typingTimer = setTimeout(() => showTyping(false), 6000);
  }

  function onSend(ev) {
    ev.preventDefault();
    const box = $('#text');
    const text = box.value.trim();
    if (!text || !chat || chat.ended) return;
    const id = 'm-' + randomId(12);
    chat.pending.push({id, text});
    chat.messages.push({seq: 0, from: 'customer', id, text, at: Date.now(), mark: 'sending'});
    save();
    renderTranscript();
    box.value = '';
    typingSent = 0;
    send({t: 'typing', on: false});
    send({t: 'msg', id, text});
    box.focus();
  }

  function onTyping() {
    const now = Date.now();
    if (now - typingSent > 3000) {
      typingSent = now;
      send({t: 'typing', on: true});
    }
  }

  function onKey(ev) {
    if (ev.key === 'Enter' && !ev.shiftKey) onSend(ev);
  }

  function onEnd() {
    if (!chat || chat.ended) return;
    if (!send({t: 'bye'})) finish('You ended the chat.');
  }

  function onCallback(ev) {
    ev.preventDefault();
    const via = new FormData(ev.target).get('via');
    const value = $('#callback-value').value.trim();
    if (!value) {
      $('#callback-value').focus();
      return;
    }
    send({t: 'callback', via, value});
    $('#offer').hidden = true;
  }

  function onVia() {
    const email = new FormData($('#callback')).get('via') === 'email';
    $('#callback-label').textContent = email ? 'Email address' : 'Phone number';
    $('#callback-value').setAttribute('autocomplete', email ? 'email' : 'tel');
    $('#callback-value').type = email ? 'email' : 'tel';
  }

  function onVisible() {
    if (document.visibilityState === 'visible' && chat && chat.seq > chat.seen) {
      chat.seen = chat.seq;
      send({t: 'seen', seq: chat.seq});
    }
  }

  function again() {
    chat = null;
    save();
    location.reload();
  }

  async function init() {
    $('#prechat').addEventListener('submit', onStart);
    $('#compose').addEventListener('submit', onSend);
    $('#text').addEventListener('input', onTyping);
    $('#text').addEventListener('keydown', onKey);
    $('#end').addEventListener('click', onEnd);
    $('#again').addEventListener('click', again);
    $('#callback').addEventListener('submit', onCallback);
    $('#callback').addEventListener('change', onVia);
    document.addEventListener('visibilitychange', onVisible);
    endpoints = new Endpoints([]);
    for (let attempt = 1; !config; attempt++) {
      try {
        const res = await fetch(endpoints.current() + '/chat/config', {cache: 'no-store'});
        if (!res.ok) throw new Error('HTTP ' + res.status);
        config = await res.json();
      } catch (e) {
        status('The chat service cannot be reached; retrying…');
        endpoints = new Endpoints([]);
        await new Promise((r) => setTimeout(r, backoff(attempt)));
      }
    }
    status('');
    endpoints.replace(config.endpoints);
    if (config.max_text) $('#text').setAttribute('maxlength', config.max_text);
    if (chat && !chat.ended) {
      startTalk();
    } else {
      chat = null;
      save();
      renderForm();
    }
  }

  window.contactdChat = {state: () => chat, socket: () => ws, endpoints: () => endpoints};
  init();
})();
