#!/usr/bin/env node
// Local DynamoDB stand-in for the tests: dynalite behind the
// signature-checking front of json-stand-in.js (its options are described
// there). DynamoDB's signing name is "dynamodb". Tables are created, updated
// and deleted at once instead of after half a second.
'use strict'

const dynalite = require('dynalite')
const { runJsonStandIn } = require('./json-stand-in')

runJsonStandIn({
  name: 'dynalite',
  service: 'dynamodb',
  contentType: 'application/x-amz-json-1.0',
  // A BatchWriteItem holds at most 16 MB.
  maxBodyBytes: 17 * 1024 * 1024,
  createServer: (path) => {
    const options = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }
    if (path) options.path = path
    return dynalite(options)
  },
})
