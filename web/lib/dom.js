/* Small helpers the pages share. Everything a customer or an agent typed reaches the page
 * as text: these helpers only ever set textContent and attributes, never markup. */
'use strict';

window.contactd = window.contactd || {};

(function (ns) {
  /* el('li', {class: 'msg', 'aria-label': 'x'}, 'text', child, ...): a new element.
   * Attributes whose value is null, undefined or false are left out; true sets them empty.
   * Properties starting with "on" are event listeners. Strings become text nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith('on') && typeof value === 'function') {
        node.addEventListener(name.slice(2), value);
      } else {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  /* A random id for a message or a chat: base64url of n random bytes. */
  function randomId(n) {
    const bytes = new Uint8Array(n || 16);
    crypto.getRandomValues(bytes);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  /* "2 min", "45 s", "1 h 5 min": a duration for people. */
  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + ' s';
    const min = Math.round(seconds / 60);
    if (min < 60) return min + ' min';
    return Math.floor(min / 60) + ' h ' + (min % 60) + ' min';
  }

  function clock(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
  }

  /* Endpoints to try in turn: the page's own origin first, then the others the node named
   * (every member's API address, or the one address of a load balancer). */
  function Endpoints(list) {
    const own = location.origin;
    this.list = [own].concat((list || []).filter((u) => u !== own));
    this.i = 0;
  }
  Endpoints.prototype.current = function () {
    return this.list[this.i % this.list.length];
  };
  Endpoints.prototype.next = function () {
    this.i = (this.i + 1) % this.list.length;
    return this.current();
  };
  Endpoints.prototype.replace = function (list) {
    const cur = this.current();
    this.list = [cur].concat((list || []).filter((u) => u !== cur));
    this.i = 0;
  };

  /* Wait before the attempt after `failures` failures in a row: 250 ms doubling to 5 s. */
  function backoff(failures) {
    return Math.min(5000, 250 * Math.pow(2, Math.max(0, failures - 1)));
  }

  ns.el = el;
  ns.append = append;
  ns.clear = clear;
  ns.$ = $;
  ns.randomId = randomId;
  ns.duration = duration;
  ns.clock = clock;
  ns.Endpoints = Endpoints;
  ns.backoff = backoff;
})(window.contactd);
