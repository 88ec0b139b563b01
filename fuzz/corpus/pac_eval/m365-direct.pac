login.microsoftonline.com
// Contoso proxy auto-configuration.
// Microsoft 365 goes direct (Microsoft's network connectivity principles); everything
// else goes through the Zscaler-style gateway, with a second proxy as fallback.

var m365Suffixes = [
  ".microsoftonline.com",
  ".microsoftonline-p.com",
  ".office.com",
  ".office.net",
  ".officeapps.live.com",
  ".sharepoint.com",
  ".outlook.com",
  ".lync.com",
  ".teams.microsoft.com"
];

function isMicrosoft365(host) {
  for (var i = 0; i < m365Suffixes.length; i++) {
    if (dnsDomainIs(host, m365Suffixes[i])) return true;
  }
  return shExpMatch(host, "login.microsoft.com") ||
         shExpMatch(host, "login.windows.net") ||
         shExpMatch(host, "*.sls.microsoft.com");
}

function FindProxyForURL(url, host) {
  host = host.toLowerCase();
  if (isPlainHostName(host) || dnsDomainIs(host, ".contoso.local")) {
    return "DIRECT";
  }
  if (isMicrosoft365(host)) {
    return "DIRECT";
  }
  return "PROXY gateway.contoso.com:8080; PROXY backup.contoso.com:8080";
}
