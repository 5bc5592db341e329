// relaydesk workspace: keyboard shortcuts and small conveniences. Every page works
// without this script; it only saves keystrokes. Loaded from our own server.
(function () {
  "use strict";
  var pending = "";  // the first key of a two-key shortcut ("g")
  var help = document.getElementById("help");

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  function toggleHelp(open) {
    if (!help) return;
    var show = open === undefined ? !help.classList.contains("open") : open;
    help.classList.toggle("open", show);
    if (!show && location.hash === "#help") history.replaceState(null, "", location.pathname + location.search);
    if (show) { var close = help.querySelector(".close"); if (close) close.focus(); }
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row]")); }
  function move(step) {
    var all = rows();
    if (!all.length) return;
    var at = all.findIndex(function (r) { return r.classList.contains("chosen"); });
    var next = Math.min(all.length - 1, Math.max(0, at < 0 ? 0 : at + step));
    if (at >= 0) all[at].classList.remove("chosen");
    all[next].classList.add("chosen");
    var link = all[next].querySelector("a");
    if (link) link.focus();
  }
  function focusOn(selector) {
    var found = document.querySelector(selector);
    if (found) { found.scrollIntoView({block: "center"}); found.focus(); return true; }
    return false;
  }
  function go(name) {
    var link = document.querySelector('[data-go="' + name + '"]');
    if (link) location.href = link.href;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      toggleHelp(false);
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    var key = event.key;
    if (pending === "g") {
      pending = "";
      if (key === "v") go("views");
      if (key === "b") go("board");
      return;
    }
    if (key === "g") { pending = "g"; return; }
    if (key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (key === "/") { if (focusOn("#q")) event.preventDefault(); return; }
    if (key === "j") { move(1); return; }
    if (key === "k") { move(-1); return; }
    if (key === "o") {
      var chosen = document.querySelector("[data-row].chosen a");
      if (chosen) location.href = chosen.href;
      return;
    }
    if (key === "r") { if (focusOn("#reply-body")) event.preventDefault(); return; }
    if (key === "n") { if (focusOn("#note-body")) event.preventDefault(); return; }
    if (key === "m") { if (focusOn("#reply-macro")) event.preventDefault(); return; }
  });

  // Choosing a macro puts its text (placeholders filled by the server) in the reply box
  // to be read or edited, unless the agent wrote something of their own there.
  var macro = document.getElementById("reply-macro");
  var replyBody = document.getElementById("reply-body");
  if (macro && replyBody) {
    var filled = "";
    macro.addEventListener("change", function () {
      if (replyBody.value.trim() && replyBody.value !== filled) return;
      var option = macro.options[macro.selectedIndex];
      filled = (option && option.getAttribute("data-text")) || "";
      replyBody.value = filled;
    });
  }

  if (help) {
    help.addEventListener("click", function (event) {
      if (event.target === help || event.target.classList.contains("close")) {
        event.preventDefault();
        toggleHelp(false);
      }
    });
  }
  if (location.hash === "#help") toggleHelp(true);

  // A list marked data-refresh="SECONDS" is read again that often while the tab is in
  // view and nobody is choosing in it (the page without script shows it as loaded).
  var refreshed = document.querySelector("[data-refresh]");
  if (refreshed && window.fetch && window.DOMParser) {
    var every = Math.max(10, parseInt(refreshed.getAttribute("data-refresh"), 10) || 30) * 1000;
    setInterval(function () {
      if (document.visibilityState !== "visible") return;
      if (document.querySelector("[data-row].chosen") || typing(document.activeElement)) return;
      fetch(location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-refresh], nav.views").forEach(function (old) {
            var selector = old.matches("nav.views") ? "nav.views" : "[data-refresh]";
            var replacement = fresh.querySelector(selector);
            if (replacement) old.replaceWith(document.importNode(replacement, true));
          });
        })
        .catch(function () { /* offline for a moment: the next round tries again */ });
    }, every);
  }
})();
