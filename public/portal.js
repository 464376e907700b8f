// Shows and hides conditional questions as the vendor answers. Without this script the portal
// works the same: conditions are evaluated by the server each time the page is saved.
(function () {
  'use strict';
  var form = document.querySelector('form[enctype="multipart/form-data"]');
  if (!form) return;
  function valuesOf(id) {
    var inputs = form.querySelectorAll('[name="a__' + id + '"]');
    var out = [];
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if ((el.type === 'radio' || el.type === 'checkbox') && !el.checked) continue;
      if (el.value !== '') out.push(el.value);
    }
    return out;
  }
  function holds(cond) {
    var v = valuesOf(cond.question);
    if ('answered' in cond) return cond.answered ? v.length > 0 : v.length === 0;
    if (v.length === 0) return false;
    if ('equals' in cond) return v[0] === String(cond.equals);
    if ('not_equals' in cond) return v[0] !== String(cond.not_equals);
    if ('in' in cond) return cond.in.map(String).indexOf(v[0]) >= 0;
    if ('includes' in cond) return v.indexOf(cond.includes) >= 0;
    if ('not_includes' in cond) return v.indexOf(cond.not_includes) < 0;
    if ('less_than' in cond) return Number(v[0]) < cond.less_than;
    if ('greater_than' in cond) return Number(v[0]) > cond.greater_than;
    return true;
  }
  function update() {
    var blocks = form.querySelectorAll('[data-show-if]');
    for (var i = 0; i < blocks.length; i++) {
      var cond = JSON.parse(blocks[i].getAttribute('data-show-if'));
      blocks[i].hidden = !holds(cond);
    }
  }
  form.addEventListener('change', update);
  form.addEventListener('input', update);
})();

// Warn about a file over the size limit before the upload is even tried.
(function () {
  'use strict';
  var inputs = document.querySelectorAll('input[type="file"][data-max-bytes]');
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener('change', function (e) {
      var input = e.target;
      var max = Number(input.getAttribute('data-max-bytes'));
      var file = input.files && input.files[0];
      if (file && file.size > max) {
        input.setCustomValidity('This file is larger than ' + Math.round(max / 1048576) + ' MB.');
        input.reportValidity();
        input.value = '';
      } else {
        input.setCustomValidity('');
      }
    });
  }
})();
