#!/usr/bin/env node
// Local Kinesis stand-in for the tests and the demo: kinesalite behind the
// signature-checking front of json-stand-in.js (its options are described
// there). Kinesis's signing name is "kinesis".
'use strict'

const kinesalite = require('kinesalite')
const { runJsonStandIn } = require('./json-stand-in')

runJsonStandIn({
  name: 'kinesalite',
  service: 'kinesis',
  contentType: 'application/x-amz-json-1.1',
  // kinesalite refuses bodies above 7 MiB; stop buffering a little after that.
  maxBodyBytes: 7 * 1024 * 1024 + 1,
  createServer: (path) => {
    const options = { createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 }
    if (path) options.path = path
    return kinesalite(options)
  },
})
