-- A deterministic Lua workload for the user-mode tests and benchmarks: integer and
-- float arithmetic, strings and patterns, tables and sorting, closures, coroutines,
-- utf8.  Prints results that must be identical natively and under emulation.
-- Usage: lua workload.lua [SCALE]
local scale = tonumber(arg and arg[1]) or 1

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print("fib", fib(20 + scale))

-- integer arithmetic with wraparound and floor division
local h = 0
for i = 1, 200000 * scale do
  h = (h * 31 + i) & 0xffffffffffff
  h = h ~ (h >> 7)
end
print("hash", string.format("%x", h), 7 // -2, 7 % -3, -7 // 2, math.maxinteger + 1 == math.mininteger)

-- floats
local s = 0.0
for i = 1, 100000 * scale do s = s + math.sin(i) * math.sqrt(i) / (i + 0.5) end
print("floats", string.format("%.10f %.6e %g %a", s, s * 1e10, 1 / 3, 0.1))
print("conv", math.tointeger(3.0), 2^53, math.floor(-3.5), math.ceil(-3.5), math.fmod(-7, 3), 1e308 * 10, -(0/0) ~= -(0/0))

-- strings and patterns
local parts = {}
for i = 1, 2000 * scale do parts[#parts + 1] = string.format("item%05d", (i * 7919) % 10007) end
local joined = table.concat(parts, ",")
local count = 0
for w in joined:gmatch("item(%d+)") do if tonumber(w) % 3 == 0 then count = count + 1 end end
local replaced, n = joined:gsub("item0*(%d)(%d*)", "%2%1")
print("strings", #joined, count, n, replaced:sub(1, 40), joined:find("item00007", 1, true))
print("format", string.format("%5d|%-5s|%05.1f|%q|%x", 42, "ab", 3.14159, "a\nb\"c", 255))
print("rep", ("ab"):rep(5, "-"), ("Hello World"):upper(), ("Hello"):byte(1, -1))

-- tables and sort
local t = {}
local seed = 42
for i = 1, 20000 * scale do
  seed = (seed * 1103515245 + 12345) % 2147483648
  t[i] = seed % 100000
end
table.sort(t)
local ok = true
for i = 2, #t do if t[i - 1] > t[i] then ok = false end end
table.sort(t, function(a, b) return a > b end)
print("sort", ok, t[1], t[#t], t[#t // 2])
local map = {}
for i = 1, 5000 do map["k" .. (i % 997)] = (map["k" .. (i % 997)] or 0) + i end
local keys = {}
for k in pairs(map) do keys[#keys + 1] = k end
table.sort(keys)
print("map", #keys, keys[1], map[keys[1]], keys[#keys], map[keys[#keys]])

-- closures and coroutines
local function counter() local c = 0 return function() c = c + 1 return c end end
local c1, c2 = counter(), counter()
for _ = 1, 10 do c1() end
print("closures", c1(), c2())
local gen = coroutine.wrap(function()
  for i = 1, 10 do coroutine.yield(i * i) end
end)
local acc = {}
for _ = 1, 10 do acc[#acc + 1] = gen() end
print("coroutines", table.concat(acc, " "))

-- utf8 and errors
print("utf8", utf8.char(72, 228, 8364, 128512), utf8.len("häll€"), #utf8.char(128512))
print("pcall", pcall(function() error({ code = 7 }) end), select(2, pcall(error, "msg", 0)))
print("done")
