// The standard PAC helper functions, evaluated before the PAC file itself.
//
// Written for m365mon from the published PAC conventions. Nothing here reaches the
// network or the clock: names come from `__m365mon_dns` (filled by the monitor with the
// sweep's resolver), the address from `__m365mon_myip`, and the time from
// `__m365mon_now` (local) and `__m365mon_now_gmt`, each [year, month 0-11, day, weekday
// 0-6, hour, minute, second]. Names the script asks for that are not in the map are
// collected in `__m365mon_misses`; the monitor resolves them and evaluates again.

var __m365mon_misses = [];

function __m365mon_isIp(s) {
  return /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(String(s));
}

function __m365mon_ip4(s) {
  var parts = String(s).split(".");
  if (parts.length !== 4) return null;
  var n = 0;
  for (var i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    var v = parseInt(parts[i], 10);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

function dnsResolve(host) {
  var name = String(host).toLowerCase().replace(/\.$/, "");
  if (__m365mon_isIp(name)) return name;
  if (Object.prototype.hasOwnProperty.call(__m365mon_dns, name)) return __m365mon_dns[name];
  if (__m365mon_misses.indexOf(name) < 0) __m365mon_misses.push(name);
  return null;
}

function dnsResolveEx(host) {
  var a = dnsResolve(host);
  return a === null ? "" : a;
}

function isResolvable(host) {
  return dnsResolve(host) !== null;
}

function isResolvableEx(host) {
  return isResolvable(host);
}

function myIpAddress() {
  return __m365mon_myip;
}

function myIpAddressEx() {
  return __m365mon_myip;
}

function isPlainHostName(host) {
  return String(host).indexOf(".") < 0;
}

function dnsDomainIs(host, domain) {
  var h = String(host).toLowerCase();
  var d = String(domain).toLowerCase();
  return h.length >= d.length && h.substring(h.length - d.length) === d;
}

function localHostOrDomainIs(host, hostdom) {
  var h = String(host).toLowerCase();
  var full = String(hostdom).toLowerCase();
  return h === full || (h.indexOf(".") < 0 && full.indexOf(h + ".") === 0);
}

function dnsDomainLevels(host) {
  return String(host).split(".").length - 1;
}

// A native glob (m365mon's `glob_match`): a regular expression built from the pattern
// can backtrack for ever on patterns like "*a*a*a*a*b".
function shExpMatch(str, pattern) {
  return __m365mon_glob(String(str), String(pattern));
}

function isInNet(host, pattern, mask) {
  var addr = __m365mon_isIp(host) ? String(host) : dnsResolve(host);
  if (addr === null) return false;
  var a = __m365mon_ip4(addr), p = __m365mon_ip4(pattern), m = __m365mon_ip4(mask);
  if (a === null || p === null || m === null) return false;
  return ((a & m) >>> 0) === ((p & m) >>> 0);
}

function convert_addr(ipchars) {
  var n = __m365mon_ip4(ipchars);
  return n === null ? 0 : n;
}

function alert() {}

var __m365mon_days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
var __m365mon_months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

// Splits a trailing "GMT" off the arguments: [args, now].
function __m365mon_args(args) {
  var list = Array.prototype.slice.call(args);
  var now = __m365mon_now;
  if (list.length > 0 && String(list[list.length - 1]).toUpperCase() === "GMT") {
    list.pop();
    now = __m365mon_now_gmt;
  }
  return [list, now];
}

// lo <= v <= hi, where a range may wrap around (FRI-MON, NOV-FEB, 22-6).
function __m365mon_within(v, lo, hi) {
  return lo <= hi ? v >= lo && v <= hi : v >= lo || v <= hi;
}

function weekdayRange() {
  var a = __m365mon_args(arguments), list = a[0], now = a[1];
  var d1 = __m365mon_days.indexOf(String(list[0]).toUpperCase());
  if (d1 < 0) return false;
  if (list.length < 2) return now[3] === d1;
  var d2 = __m365mon_days.indexOf(String(list[1]).toUpperCase());
  if (d2 < 0) return false;
  return __m365mon_within(now[3], d1, d2);
}

// A dateRange argument: a month name, a day (1-31) or a year (> 31).
function __m365mon_datePart(v) {
  var m = __m365mon_months.indexOf(String(v).toUpperCase());
  if (m >= 0) return { kind: "month", value: m };
  var n = parseInt(v, 10);
  if (isNaN(n)) return null;
  return n > 31 ? { kind: "year", value: n } : { kind: "day", value: n };
}

function dateRange() {
  var a = __m365mon_args(arguments), list = a[0], now = a[1];
  var parts = [];
  for (var i = 0; i < list.length; i++) {
    var p = __m365mon_datePart(list[i]);
    if (p === null) return false;
    parts.push(p);
  }
  if (parts.length === 0 || parts.length > 6 || (parts.length > 1 && parts.length % 2 !== 0)) return false;
  var half = parts.length === 1 ? parts : parts.slice(0, parts.length / 2);
  var other = parts.length === 1 ? parts : parts.slice(parts.length / 2);
  // Compare only the components the arguments name, most significant first.
  var weight = { year: 10000, month: 100, day: 1 };
  var key = function (ps) {
    var k = 0;
    for (var j = 0; j < ps.length; j++) k += ps[j].value * weight[ps[j].kind];
    return k;
  };
  var current = function (ps) {
    var k = 0;
    for (var j = 0; j < ps.length; j++) {
      var v = ps[j].kind === "year" ? now[0] : ps[j].kind === "month" ? now[1] : now[2];
      k += v * weight[ps[j].kind];
    }
    return k;
  };
  var lo = key(half), hi = key(other), v = current(half);
  var hasYear = half.some(function (p) { return p.kind === "year"; });
  return hasYear ? v >= lo && v <= hi : __m365mon_within(v, lo, hi);
}

function timeRange() {
  var a = __m365mon_args(arguments), list = a[0], now = a[1];
  var n = [];
  for (var i = 0; i < list.length; i++) {
    var v = parseInt(list[i], 10);
    if (isNaN(v)) return false;
    n.push(v);
  }
  var secs = now[4] * 3600 + now[5] * 60 + now[6];
  if (n.length === 1) return now[4] === n[0];
  // Ranges of time are half-open: timeRange(8, 17) is 8:00 up to, not including, 17:00.
  var from, to;
  if (n.length === 2) { from = n[0] * 3600; to = n[1] * 3600; }
  else if (n.length === 4) { from = n[0] * 3600 + n[1] * 60; to = n[2] * 3600 + n[3] * 60; }
  else if (n.length === 6) { from = n[0] * 3600 + n[1] * 60 + n[2]; to = n[3] * 3600 + n[4] * 60 + n[5]; }
  else return false;
  return from <= to ? secs >= from && secs < to : secs >= from || secs < to;
}
