-- rotate-tokens.lua — wrk script: every request carries the next token of a file (one a line),
-- round robin. With far more distinct tokens than the verified-token caches hold (gateway 8192
-- slots, services 4096) nearly every request costs a full ES256 signature check everywhere.
--
--   wrk ... -s rotate-tokens.lua URL -- TOKENS_FILE

local tokens = {}
local n, i = 0, 0
local headers = {}

function init(args)
   local file = args[1]
   if file == nil then
      error("rotate-tokens.lua: pass the tokens file after --")
   end
   for line in io.lines(file) do
      if #line > 0 then
         n = n + 1
         tokens[n] = "Bearer " .. line
      end
   end
   if n == 0 then
      error("rotate-tokens.lua: no tokens in " .. file)
   end
end

function request()
   i = i % n + 1
   headers["Authorization"] = tokens[i]
   return wrk.format("GET", nil, headers, nil)
end
