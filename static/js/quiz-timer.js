// The countdown of a timed quiz attempt (templates/assessments/attempt_form.html).
// It counts down from the seconds left when the server sent the page, so the learner's clock
// does not matter, announces the last minutes to screen readers, and submits the answers a
// moment before the deadline so that they are saved in time. Without JavaScript the page
// still shows the deadline, and the server grades what was saved when the time runs out.
(function () {
  "use strict";

  var SUBMIT_LEAD_SECONDS = 3;
  var ANNOUNCE_AT = [300, 60];  // the (translated) texts are the timer's data-announce-<s>

  var timer = document.querySelector("[data-seconds-left]");
  if (!timer) {
    return;
  }
  var value = timer.querySelector("[data-timer-value]");
  var announce = timer.querySelector("[data-timer-announce]");
  var form = document.getElementById(timer.getAttribute("data-form"));
  var endsAt = Date.now() + Number(timer.getAttribute("data-seconds-left")) * 1000;
  var submitted = false;
  var intervalId = null;
  var previous = Infinity;

  function clock(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    var pad = function (number) { return (number < 10 ? "0" : "") + number; };
    return hours ? hours + ":" + pad(minutes) + ":" + pad(rest) : minutes + ":" + pad(rest);
  }

  function submitNow() {
    var button = form && form.querySelector("[data-submit-attempt]");
    if (!button || submitted) {
      return;
    }
    submitted = true;
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(button);
    } else {
      var action = document.createElement("input");
      action.type = "hidden";
      action.name = button.name;
      action.value = button.value;
      form.appendChild(action);
      form.submit();
    }
  }

  function tick() {
    var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    value.textContent = clock(left);
    timer.classList.toggle("is-ending", left <= 60);
    ANNOUNCE_AT.forEach(function (threshold) {
      // Once, when the countdown crosses it (a late tick may skip the exact second).
      if (announce && previous > threshold && left <= threshold) {
        announce.textContent = timer.getAttribute("data-announce-" + threshold) || "";
      }
    });
    previous = left;
    if (left <= SUBMIT_LEAD_SECONDS) {
      window.clearInterval(intervalId);
      submitNow();
    }
  }

  if (form) {
    form.addEventListener("submit", function () { submitted = true; });
  }
  intervalId = window.setInterval(tick, 1000);
  tick();
})();
