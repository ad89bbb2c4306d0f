/**
 * Preloaded (`node --require`) into emulators written for Node that have no bind-address setting
 * (kinesis-mock listens on every interface): rewrites wildcard listens to 127.0.0.1 so the test
 * emulators are never reachable from the network.
 */
'use strict';
const net = require('node:net');

const WILDCARDS = new Set([undefined, null, '', '0.0.0.0', '::', '[::]']);
const originalListen = net.Server.prototype.listen;

net.Server.prototype.listen = function listen(...args) {
  const first = args[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first) && 'port' in first) {
    if (WILDCARDS.has(first.host)) args[0] = { ...first, host: '127.0.0.1' };
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] === 'string' || (args.length > 1 && args[1] == null)) {
      if (WILDCARDS.has(args[1])) args[1] = '127.0.0.1';
    } else {
      args.splice(1, 0, '127.0.0.1');
    }
  }
  return originalListen.apply(this, args);
};
