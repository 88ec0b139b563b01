login.microsoftonline.com
// A SOCKS proxy first, which Office cannot use for this traffic; an HTTP proxy second.
function FindProxyForURL(url, host) {
  return "SOCKS5 socks.contoso.com:1080; PROXY http-proxy.contoso.com:8080; DIRECT";
}
