/* The chat on any web site: <script src="https://NODE/chat/embed.js" data-entry="support"
 * async></script> adds a button that opens the chat page of the node it came from in a
 * frame, and closes it again. data-label changes the button's text. */
'use strict';

(function () {
  const script = document.currentScript;
  if (!script) return;
  const origin = new URL(script.src).origin;
  const entry = script.dataset.entry || '';
  const label = script.dataset.label || 'Chat with us';
  let frame = null;

  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = label;
  button.setAttribute('aria-expanded', 'false');
  button.style.cssText = 'position:fixed;right:1rem;bottom:1rem;z-index:2147483000;' +
    'padding:.6rem 1rem;border-radius:1.5rem;border:2px solid #1f5fbf;background:#1f5fbf;' +
    'color:#fff;font:16px sans-serif;cursor:pointer';

  function toggle() {
    if (frame) {
      frame.remove();
      frame = null;
      button.setAttribute('aria-expanded', 'false');
      button.textContent = label;
      return;
    }
    frame = document.createElement('iframe');
    frame.title = label;
    frame.src = origin + '/chat/' + (entry ? '?entry=' + encodeURIComponent(entry) : '');
    frame.style.cssText = 'position:fixed;right:1rem;bottom:4rem;width:min(26rem,calc(100vw - 2rem));' +
      'height:min(38rem,calc(100vh - 6rem));border:1px solid #999;border-radius:8px;' +
      'background:#fff;z-index:2147483000';
    document.body.appendChild(frame);
    button.setAttribute('aria-expanded', 'true');
    button.textContent = 'Close chat';
  }

  button.addEventListener('click', toggle);
  if (document.body) document.body.appendChild(button);
  else document.addEventListener('DOMContentLoaded', () => document.body.appendChild(button));
})();
