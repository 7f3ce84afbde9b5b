-- wrk script for bench/cluster: one write per request, every request a new key.
--   wrk ... -s load.lua URL -- contactd PREFIX [TOKEN]   POST /v1/contacts {"key", "channel"}
--   wrk ... -s load.lua URL -- etcd PREFIX       POST /v3/kv/put {"key", "value"} (base64)
-- At the end it prints one line the benchmark reads:
--   WRK requests=N failed=N errors=N seconds=S p50_us=N p99_us=N
-- (failed: answers with a status of 400 or more; errors: connect, read, write, timeout)
-- The URL may be https://: wrk then speaks TLS (without checking the certificate).
local count = 0

function setup(thread)
  thread:set("tid", count)
  count = count + 1
end

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 4 - (b and 0 or 1) - (c and 0 or 1)
    for j = 1, 4 do
      if j <= chars then
        local k = math.floor(n / 64 ^ (4 - j)) % 64
        out[#out + 1] = alphabet:sub(k + 1, k + 1)
      else
        out[#out + 1] = "="
      end
    end
  end
  return table.concat(out)
end

local mode, prefix, seq, value, headers

function init(args)
  mode = args[1] or "contactd"
  prefix = (args[2] or "w") .. "-" .. tid
  seq = 0
  value = base64('{"channel":"chat","priority":0}')
  -- Every request's headers (wrk adds Host and Content-Length); a bearer token when given.
  headers = { ["Content-Type"] = "application/json" }
  if args[3] and args[3] ~= "" then
    headers["Authorization"] = "Bearer " .. args[3]
  end
end

function request()
  seq = seq + 1
  local key = prefix .. "-" .. seq
  if mode == "etcd" then
    return wrk.format("POST", "/v3/kv/put", headers,
      '{"key":"' .. base64(key) .. '","value":"' .. value .. '"}')
  end
  return wrk.format("POST", "/v1/contacts", headers,
    '{"key":"' .. key .. '","channel":"chat"}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%d failed=%d errors=%d seconds=%.3f p50_us=%d p99_us=%d\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(99)))
end
