login.microsoftonline.com
// Woodgrove: the filtering proxy only during office hours on weekdays; direct otherwise.
function FindProxyForURL(url, host) {
  if (dnsDomainLevels(host) < 1) return "DIRECT";
  if (weekdayRange("MON", "FRI") && timeRange(8, 18)) {
    return "PROXY filter.woodgrove.com:8080";
  }
  if (dateRange("DEC", "JAN")) {
    return "PROXY holiday.woodgrove.com:8080";
  }
  return "DIRECT";
}
