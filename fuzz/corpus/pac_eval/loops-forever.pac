login.microsoftonline.com
// A PAC file with a bug: the retry loop never ends for Microsoft hosts.
function pick(host) {
  var tries = 0;
  while (true) {
    tries++;
    if (tries < 0) break;
  }
  return "DIRECT";
}

function FindProxyForURL(url, host) {
  if (dnsDomainIs(host, ".microsoft.com")) return pick(host);
  return "PROXY proxy.contoso.com:8080";
}
