-- wrk script for bench/run_load.py: a weighted mix of hook calls, each with a fresh hookInstance, and a count of
-- answers by status. Arguments (after --): weight:path:body-file triples, e.g.
--   wrk -t2 -c32 -d120s -s bench/load_mix.lua http://127.0.0.1:8080 -- 40:/cds-services/low-alp-order-sign:a.json
-- Body files hold the literal placeholder HOOK-INSTANCE-PLACEHOLDER where the hookInstance goes.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local choices = {}
local total_weight = 0
local counter = 0
statuses = {}
calls = {}

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  for _, spec in ipairs(args) do
    local weight, path, file = spec:match("^(%d+):([^:]+):(.+)$")
    local body = read_file(file)
    local s, e = body:find("HOOK-INSTANCE-PLACEHOLDER", 1, true)
    local prefix, suffix = body, ""
    if s then prefix, suffix = body:sub(1, s - 1), body:sub(e + 1) end
    total_weight = total_weight + tonumber(weight)
    table.insert(choices, {limit = total_weight, path = path, prefix = prefix, suffix = suffix, has_id = s ~= nil})
  end
  math.randomseed(os.time() + id)
end

function request()
  counter = counter + 1
  local pick = math.random(total_weight)
  for _, c in ipairs(choices) do
    if pick <= c.limit then
      calls[c.path] = (calls[c.path] or 0) + 1
      local body = c.prefix
      if c.has_id then
        body = c.prefix .. string.format("00000000-0000-4000-8%03d-%012d", id, counter) .. c.suffix
      end
      return wrk.format("POST", c.path, {["Content-Type"] = "application/json"}, body)
    end
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do table.insert(parts, string.format('"%s": %d', k, v)) end
  io.write(string.format('STATUSES {%s}\n', table.concat(parts, ", ")))
  io.write(string.format('SUMMARY {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
