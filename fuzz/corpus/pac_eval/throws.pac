login.microsoftonline.com
// A PAC file whose author relied on a helper that only one browser defines.
function FindProxyForURL(url, host) {
  if (dnsDomainIs(host, ".live.com")) {
    return browserSpecificRoute(host);
  }
  return "DIRECT";
}
