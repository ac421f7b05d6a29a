#!/usr/bin/env node
// Aggregates user records in the KPL's format with aws-kinesis-agg, an
// implementation independent of this project's, for the tests.
//
//   node kpl-aggregate.js < in.json > out.json
//
// in:  [[{"partitionKey": "k", "data": "<base64>"}, ...], ...]  (one list per aggregate)
// out: [{"PartitionKey": "k", "Data": "<base64>"}, ...]          (one Kinesis record each)
'use strict'

const { RecordAggregator } = require('aws-kinesis-agg')

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => { input += chunk })
process.stdin.on('end', () => {
  const out = []
  for (const group of JSON.parse(input)) {
    const aggregator = new RecordAggregator()
    for (const user of group) {
      aggregator.addUserRecord({ partitionKey: user.partitionKey, data: Buffer.from(user.data, 'base64') })
    }
    const record = aggregator.build()
    out.push({ PartitionKey: record.partitionKey, Data: Buffer.from(record.data).toString('base64') })
  }
  process.stdout.write(JSON.stringify(out))
})
