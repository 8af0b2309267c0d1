-- wrk script for collector-load.sh: POSTs a unique web_connectivity
-- measurement per request and logs every id the server acknowledged as
-- stored (HTTP 201) to $CANARY_ACK_DIR/acked-<thread>.txt.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local template, ack, counter, nonce

function init(args)
  local f = assert(io.open(os.getenv("CANARY_TEMPLATE"), "r"))
  template = f:read("*a"):gsub("%s+$", "")
  f:close()
  ack = assert(io.open(os.getenv("CANARY_ACK_DIR") .. "/acked-" .. tid .. ".txt", "w"))
  ack:setvbuf("line")
  counter = 0
  nonce = os.time()
end

function request()
  counter = counter + 1
  local uid = string.format("20250101000000.%09d_KH_webconnectivity_load%d_%d", counter, tid, nonce)
  local body = template:gsub("__UID__", uid)
  return wrk.format("POST", "/api/v1/submit", { ["Content-Type"] = "application/json" }, body)
end

local created, other = 0, 0

function response(status, headers, body)
  if status == 201 then
    local uid = body:match('"ids":%["([^"]+)"')
    if uid then
      ack:write(uid, "\n")
      created = created + 1
    end
  else
    other = other + 1
  end
end
