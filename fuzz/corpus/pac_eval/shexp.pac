h
// A shExpMatch pattern that a regular-expression translation backtracks on for ever
// (".*a.*a.*a…b" against a long run of "a"s); a glob answers it at once.
function FindProxyForURL(url, host) {
  var text = "";
  for (var i = 0; i < 3000; i++) text += "a";
  if (shExpMatch(text, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b")) return "PROXY wrong.example:1";
  if (shExpMatch(host, "*.microsoftonline.com")) return "PROXY gateway.contoso.com:8080";
  return "DIRECT";
}
