export { parseDnsMessage, parseDnsOverTcp, dnsTypeName, dnsRcodeDescription, type DnsMessage, type DnsQuestion, type DnsAnswer, type DnsParseOptions } from './dnsMessage.ts';
export { parseHttpHead, type HttpHead, type HttpRequestHead, type HttpResponseHead, type HttpHeader } from './httpHead.ts';
