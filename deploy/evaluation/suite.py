"""The built-in suite: programming tasks written for this project, each with its tests and a
reference solution (tests/integration/test_eval_suite.py runs every reference against its tests, so
no task can be unsolvable). Each task names the function to write. Python first; JavaScript
tasks run where a node is on PATH (skipped and reported otherwise), their tests after the
answer in one CommonJS script, with node's strict `assert` (deploy/evaluation/sandbox.py).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str
    prompt: str  # what the model is asked: it names the function and its behaviour
    # Python asserts, run with the answer's code imported (`from solution import *`); for
    # JavaScript, statements run after the answer's code, `assert` being node's strict one
    tests: str
    reference: str  # a solution that passes `tests`
    language: str = "python"
    max_tokens: int = 400


def _task(name: str, prompt: str, reference: str, tests: str, max_tokens: int = 400) -> Task:
    return Task(name, prompt, tests.strip() + "\n", reference.strip() + "\n", max_tokens=max_tokens)


def _js_task(name: str, prompt: str, reference: str, tests: str) -> Task:
    return Task(name, prompt, tests.strip() + "\n", reference.strip() + "\n", "javascript")


PYTHON_TASKS: tuple[Task, ...] = (
    _task(
        "add",
        "a Python function add(a, b) that returns the sum of two numbers",
        "def add(a, b):\n    return a + b",
        "assert add(2, 3) == 5\nassert add(-1, 1) == 0\nassert add(0.5, 0.25) == 0.75",
    ),
    _task(
        "is_palindrome",
        "a Python function is_palindrome(text) that returns True when text reads the same "
        "backwards, ignoring case and every character that is not a letter or a digit",
        "def is_palindrome(text):\n    s = [c.lower() for c in text if c.isalnum()]\n"
        "    return s == s[::-1]",
        "assert is_palindrome('A man, a plan, a canal: Panama')\nassert not is_palindrome('abc')\n"
        "assert is_palindrome('')\nassert is_palindrome('No lemon, no melon')",
    ),
    _task(
        "fizzbuzz",
        "a Python function fizzbuzz(n) that returns a list of strings for 1..n: 'Fizz' for "
        "multiples of 3, 'Buzz' for multiples of 5, 'FizzBuzz' for both, else the number",
        "def fizzbuzz(n):\n    out = []\n    for i in range(1, n + 1):\n"
        "        out.append('FizzBuzz' if i % 15 == 0 else 'Fizz' if i % 3 == 0 else "
        "'Buzz' if i % 5 == 0 else str(i))\n    return out",
        "assert fizzbuzz(5) == ['1', '2', 'Fizz', '4', 'Buzz']\nassert fizzbuzz(15)[-1] == "
        "'FizzBuzz'\nassert fizzbuzz(0) == []",
    ),
    _task(
        "factorial",
        "a Python function factorial(n) that returns n! for an integer n >= 0 and raises "
        "ValueError for a negative n",
        "def factorial(n):\n    if n < 0:\n        raise ValueError(n)\n    r = 1\n"
        "    for i in range(2, n + 1):\n        r *= i\n    return r",
        "assert factorial(0) == 1\nassert factorial(5) == 120\nassert factorial(20) == "
        "2432902008176640000\ntry:\n    factorial(-1)\nexcept ValueError:\n    pass\n"
        "else:\n    raise AssertionError('no ValueError')",
    ),
    _task(
        "fibonacci",
        "a Python function fibonacci(n) that returns the n-th Fibonacci number, with "
        "fibonacci(0) == 0 and fibonacci(1) == 1, fast enough for n = 200",
        "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
        "    return a",
        "assert fibonacci(0) == 0 and fibonacci(1) == 1 and fibonacci(10) == 55\n"
        "assert fibonacci(200) == 280571172992510140037611932413038677189525",
    ),
    _task(
        "is_prime",
        "a Python function is_prime(n) that returns True when the integer n is a prime number",
        "def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n"
        "        if n % i == 0:\n            return False\n        i += 1\n    return True",
        "assert [n for n in range(20) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19]\n"
        "assert is_prime(7919) and not is_prime(7917) and not is_prime(-7)",
    ),
    _task(
        "gcd",
        "a Python function gcd(a, b) that returns the greatest common divisor of two "
        "non-negative integers, without using math.gcd",
        "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a",
        "assert gcd(12, 18) == 6\nassert gcd(17, 5) == 1\nassert gcd(0, 9) == 9",
    ),
    _task(
        "reverse_words",
        "a Python function reverse_words(sentence) that returns the words of the sentence in "
        "reverse order, separated by single spaces",
        "def reverse_words(sentence):\n    return ' '.join(reversed(sentence.split()))",
        "assert reverse_words('the quick brown fox') == 'fox brown quick the'\n"
        "assert reverse_words('  hello   world ') == 'world hello'\nassert reverse_words('') == ''",
    ),
    _task(
        "count_vowels",
        "a Python function count_vowels(text) that returns how many of its characters are "
        "the vowels a, e, i, o, u, in either case",
        "def count_vowels(text):\n    return sum(1 for c in text.lower() if c in 'aeiou')",
        "assert count_vowels('Hello World') == 3\nassert count_vowels('xyz') == 0\n"
        "assert count_vowels('AEIOUaeiou') == 10",
    ),
    _task(
        "word_frequencies",
        "a Python function word_frequencies(text) that returns a dict from each lower-cased "
        "word (a run of letters) to how many times it occurs",
        "import re\n\n\ndef word_frequencies(text):\n    counts = {}\n"
        "    for word in re.findall(r'[a-z]+', text.lower()):\n"
        "        counts[word] = counts.get(word, 0) + 1\n    return counts",
        "assert word_frequencies('The cat and the hat.') == {'the': 2, 'cat': 1, 'and': 1, "
        "'hat': 1}\nassert word_frequencies('') == {}",
    ),
    _task(
        "flatten",
        "a Python function flatten(items) that flattens arbitrarily nested lists into one "
        "flat list, keeping the order",
        "def flatten(items):\n    out = []\n    for item in items:\n"
        "        if isinstance(item, list):\n            out.extend(flatten(item))\n"
        "        else:\n            out.append(item)\n    return out",
        "assert flatten([1, [2, [3, [4]], 5]]) == [1, 2, 3, 4, 5]\nassert flatten([]) == []\n"
        "assert flatten([[], [[]]]) == []",
    ),
    _task(
        "chunk",
        "a Python function chunk(items, size) that splits a list into consecutive lists of "
        "length size (the last may be shorter) and raises ValueError when size < 1",
        "def chunk(items, size):\n    if size < 1:\n        raise ValueError(size)\n"
        "    return [items[i:i + size] for i in range(0, len(items), size)]",
        "assert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]\nassert chunk([], 3) == []\n"
        "try:\n    chunk([1], 0)\nexcept ValueError:\n    pass\nelse:\n"
        "    raise AssertionError('no ValueError')",
    ),
    _task(
        "dedupe",
        "a Python function dedupe(items) that returns the list without duplicates, keeping "
        "the first occurrence of each item in order",
        "def dedupe(items):\n    seen = set()\n    out = []\n    for item in items:\n"
        "        if item not in seen:\n            seen.add(item)\n            out.append(item)\n"
        "    return out",
        "assert dedupe([3, 1, 3, 2, 1]) == [3, 1, 2]\nassert dedupe([]) == []\n"
        "assert dedupe(list('banana')) == ['b', 'a', 'n']",
    ),
    _task(
        "binary_search",
        "a Python function binary_search(items, target) that returns the index of target in "
        "the sorted list items, or -1 when it is not there",
        "def binary_search(items, target):\n    lo, hi = 0, len(items) - 1\n    while lo <= hi:\n"
        "        mid = (lo + hi) // 2\n        if items[mid] == target:\n            return mid\n"
        "        if items[mid] < target:\n            lo = mid + 1\n        else:\n"
        "            hi = mid - 1\n    return -1",
        "data = list(range(0, 100, 3))\nassert all(binary_search(data, v) == i for i, v in "
        "enumerate(data))\nassert binary_search(data, 4) == -1 and binary_search([], 1) == -1",
    ),
    _task(
        "merge_sorted",
        "a Python function merge_sorted(a, b) that merges two sorted lists into one sorted "
        "list without calling sort or sorted",
        "def merge_sorted(a, b):\n    out, i, j = [], 0, 0\n    while i < len(a) and j < len(b):\n"
        "        if a[i] <= b[j]:\n            out.append(a[i])\n            i += 1\n"
        "        else:\n            out.append(b[j])\n            j += 1\n"
        "    return out + a[i:] + b[j:]",
        "assert merge_sorted([1, 4, 9], [2, 3, 10]) == [1, 2, 3, 4, 9, 10]\n"
        "assert merge_sorted([], [1]) == [1] and merge_sorted([], []) == []",
    ),
    _task(
        "roman_numeral",
        "a Python function to_roman(n) that returns the Roman numeral for an integer from 1 "
        "to 3999",
        "def to_roman(n):\n    parts = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'), "
        "(100, 'C'), (90, 'XC'), (50, 'L'), (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), "
        "(4, 'IV'), (1, 'I')]\n    out = ''\n    for value, letters in parts:\n"
        "        while n >= value:\n            out += letters\n            n -= value\n"
        "    return out",
        "assert to_roman(1) == 'I' and to_roman(4) == 'IV' and to_roman(9) == 'IX'\n"
        "assert to_roman(1994) == 'MCMXCIV' and to_roman(3999) == 'MMMCMXCIX'",
    ),
    _task(
        "caesar_cipher",
        "a Python function caesar(text, shift) that shifts each ASCII letter by shift places "
        "in the alphabet (wrapping around, keeping case) and leaves other characters alone",
        "def caesar(text, shift):\n    out = []\n    for c in text:\n        if c.isascii() and "
        "c.isalpha():\n            base = ord('A') if c.isupper() else ord('a')\n"
        "            out.append(chr((ord(c) - base + shift) % 26 + base))\n        else:\n"
        "            out.append(c)\n    return ''.join(out)",
        "assert caesar('Hello, World!', 3) == 'Khoor, Zruog!'\nassert caesar('xyz', 2) == 'zab'\n"
        "assert caesar(caesar('Secret', 11), -11) == 'Secret'",
    ),
    _task(
        "balanced_brackets",
        "a Python function balanced(text) that returns True when every (), [] and {} in the "
        "text is closed in the right order; other characters do not matter",
        "def balanced(text):\n    pairs = {')': '(', ']': '[', '}': '{'}\n    stack = []\n"
        "    for c in text:\n        if c in '([{':\n            stack.append(c)\n"
        "        elif c in pairs:\n            if not stack or stack.pop() != pairs[c]:\n"
        "                return False\n    return not stack",
        "assert balanced('a(b[c]{d}e)f') and balanced('')\nassert not balanced('(]') and not "
        "balanced('((') and not balanced(')(')",
    ),
    _task(
        "anagrams",
        "a Python function are_anagrams(a, b) that returns True when the two strings use the "
        "same letters the same number of times, ignoring case and spaces",
        "def are_anagrams(a, b):\n    def key(s):\n"
        "        return sorted(s.replace(' ', '').lower())\n"
        "    return key(a) == key(b)",
        "assert are_anagrams('Listen', 'Silent') and are_anagrams('a gentleman', 'elegant man')\n"
        "assert not are_anagrams('abc', 'abd')",
    ),
    _task(
        "run_length",
        "a Python function run_length(text) that encodes runs of the same character as the "
        "count followed by the character, e.g. 'aaab' becomes '3a1b'",
        "def run_length(text):\n    out = []\n    i = 0\n    while i < len(text):\n        j = i\n"
        "        while j < len(text) and text[j] == text[i]:\n            j += 1\n"
        "        out.append(f'{j - i}{text[i]}')\n        i = j\n    return ''.join(out)",
        "assert run_length('aaab') == '3a1b'\nassert run_length('') == ''\n"
        "assert run_length('abcc') == '1a1b2c'",
    ),
    _task(
        "matrix_transpose",
        "a Python function transpose(matrix) that returns the transpose of a rectangular "
        "matrix given as a list of rows",
        "def transpose(matrix):\n    return [list(row) for row in zip(*matrix)]",
        "assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]\n"
        "assert transpose([]) == []",
    ),
    _task(
        "second_largest",
        "a Python function second_largest(numbers) that returns the second largest distinct "
        "value in the list, or None when there is none",
        "def second_largest(numbers):\n    values = sorted(set(numbers))\n"
        "    return values[-2] if len(values) > 1 else None",
        "assert second_largest([4, 1, 4, 3]) == 3\nassert second_largest([5, 5]) is None\n"
        "assert second_largest([]) is None",
    ),
    _task(
        "digit_sum",
        "a Python function digit_sum(n) that returns the sum of the decimal digits of the "
        "integer n (the sign ignored)",
        "def digit_sum(n):\n    return sum(int(d) for d in str(abs(n)))",
        "assert digit_sum(12345) == 15 and digit_sum(-909) == 18 and digit_sum(0) == 0",
    ),
    _task(
        "title_case",
        "a Python function title_case(text) that capitalises the first letter of each "
        "space-separated word and lower-cases the rest, keeping the spaces as they are",
        "def title_case(text):\n    return ' '.join(w[:1].upper() + w[1:].lower() for w in "
        "text.split(' '))",
        "assert title_case('hello WORLD') == 'Hello World'\n"
        "assert title_case('a  b') == 'A  B' and title_case('') == ''",
    ),
    _task(
        "valid_ipv4",
        "a Python function is_ipv4(text) that returns True when text is a dotted IPv4 "
        "address: four decimal numbers 0-255 without leading zeros",
        "def is_ipv4(text):\n    parts = text.split('.')\n    if len(parts) != 4:\n"
        "        return False\n    for p in parts:\n        if not p.isdigit() or (len(p) > 1 and "
        "p[0] == '0') or int(p) > 255:\n            return False\n    return True",
        "assert is_ipv4('192.168.0.1') and is_ipv4('0.0.0.0')\nassert not is_ipv4('256.1.1.1') "
        "and not is_ipv4('1.2.3') and not is_ipv4('01.2.3.4') and not is_ipv4('a.b.c.d')",
    ),
    _task(
        "stack_class",
        "a Python class Stack with push(item), pop() (raising IndexError when empty), "
        "peek(), is_empty() and __len__",
        "class Stack:\n    def __init__(self):\n        self._items = []\n\n"
        "    def push(self, item):\n        self._items.append(item)\n\n    def pop(self):\n"
        "        if not self._items:\n            raise IndexError('empty')\n"
        "        return self._items.pop()\n\n    def peek(self):\n"
        "        return self._items[-1]\n\n"
        "    def is_empty(self):\n        return not self._items\n\n    def __len__(self):\n"
        "        return len(self._items)",
        "s = Stack()\nassert s.is_empty() and len(s) == 0\ns.push(1)\ns.push(2)\n"
        "assert s.peek() == 2 and len(s) == 2 and s.pop() == 2 and s.pop() == 1\n"
        "try:\n    s.pop()\nexcept IndexError:\n    pass\nelse:\n"
        "    raise AssertionError('no IndexError')",
    ),
    _task(
        "celsius_table",
        "a Python function celsius_to_fahrenheit(values) that converts a list of Celsius "
        "temperatures to Fahrenheit, each rounded to one decimal place",
        "def celsius_to_fahrenheit(values):\n    return [round(c * 9 / 5 + 32, 1) for c in values]",
        "assert celsius_to_fahrenheit([0, 100, -40, 36.6]) == [32.0, 212.0, -40.0, 97.9]",
    ),
    _task(
        "parse_csv_line",
        "a Python function parse_csv_line(line) that splits one CSV line into its fields, "
        "honouring double-quoted fields that may hold commas and doubled quotes",
        "import csv\n\n\ndef parse_csv_line(line):\n    return next(csv.reader([line]))",
        "assert parse_csv_line('a,b,c') == ['a', 'b', 'c']\n"
        'assert parse_csv_line(\'1,"x, y","say ""hi"""\') == [\'1\', \'x, y\', \'say "hi"\']',
    ),
    _task(
        "longest_common_prefix",
        "a Python function common_prefix(words) that returns the longest prefix shared by "
        "every string in the list ('' for an empty list)",
        "import os\n\n\ndef common_prefix(words):\n    return os.path.commonprefix(words) if words "
        "else ''",
        "assert common_prefix(['flower', 'flow', 'flight']) == 'fl'\n"
        "assert common_prefix(['a', 'b']) == '' and common_prefix([]) == ''",
    ),
    _task(
        "lru_cache_class",
        "a Python class LRUCache(capacity) with get(key) (returning None when absent) and "
        "put(key, value), evicting the least recently used key when full",
        "from collections import OrderedDict\n\n\nclass LRUCache:\n"
        "    def __init__(self, capacity):\n        self.capacity = capacity\n"
        "        self.data = OrderedDict()\n\n    def get(self, key):\n"
        "        if key not in self.data:\n            return None\n"
        "        self.data.move_to_end(key)\n        return self.data[key]\n\n"
        "    def put(self, key, value):\n        self.data[key] = value\n"
        "        self.data.move_to_end(key)\n        if len(self.data) > self.capacity:\n"
        "            self.data.popitem(last=False)",
        "c = LRUCache(2)\nc.put('a', 1)\nc.put('b', 2)\nassert c.get('a') == 1\nc.put('c', 3)\n"
        "assert c.get('b') is None and c.get('a') == 1 and c.get('c') == 3",
        max_tokens=500,
    ),
    _task(
        "json_pretty_keys",
        "a Python function sorted_json(data) that returns the JSON text of a dict with its "
        "keys sorted and an indent of 2 spaces",
        "import json\n\n\ndef sorted_json(data):\n    return json.dumps(data, sort_keys=True, "
        "indent=2)",
        "import json\nout = sorted_json({'b': 1, 'a': [1, 2]})\n"
        "assert json.loads(out) == {'a': [1, 2], 'b': 1}\n"
        "assert out.index('\"a\"') < out.index('\"b\"') and '\\n  \"a\"' in out",
    ),
)

JAVASCRIPT_TASKS: tuple[Task, ...] = (
    _js_task(
        "js_add",
        "a JavaScript function add(a, b) that returns the sum of two numbers",
        "function add(a, b) {\n  return a + b;\n}",
        "assert.equal(add(2, 3), 5);\nassert.equal(add(-1, 1), 0);\n"
        "assert.equal(add(0.5, 0.25), 0.75);",
    ),
    _js_task(
        "js_is_palindrome",
        "a JavaScript function isPalindrome(text) that says whether a string reads the same "
        "backwards, ignoring case and every character but letters and digits",
        "function isPalindrome(text) {\n  const s = text.toLowerCase().replace(/[^a-z0-9]/g, '');"
        "\n  return s === [...s].reverse().join('');\n}",
        "assert.equal(isPalindrome('A man, a plan, a canal: Panama'), true);\n"
        "assert.equal(isPalindrome('hello'), false);\nassert.equal(isPalindrome(''), true);",
    ),
    _js_task(
        "js_fizzbuzz",
        "a JavaScript function fizzbuzz(n) that returns an array of strings for 1 to n: "
        "'Fizz' for multiples of 3, 'Buzz' for multiples of 5, 'FizzBuzz' for both, else the "
        "number as a string",
        "function fizzbuzz(n) {\n  const out = [];\n  for (let i = 1; i <= n; i++) {\n"
        "    out.push(i % 15 === 0 ? 'FizzBuzz' : i % 3 === 0 ? 'Fizz' : i % 5 === 0 ? 'Buzz' "
        ": String(i));\n  }\n  return out;\n}",
        "const out = fizzbuzz(15);\nassert.equal(out.length, 15);\n"
        "assert.deepEqual(out.slice(0, 5), ['1', '2', 'Fizz', '4', 'Buzz']);\n"
        "assert.equal(out[14], 'FizzBuzz');",
    ),
    _js_task(
        "js_factorial",
        "a JavaScript function factorial(n) that returns n! for a non-negative integer n "
        "(factorial(0) is 1)",
        "function factorial(n) {\n  let r = 1;\n  for (let i = 2; i <= n; i++) r *= i;\n"
        "  return r;\n}",
        "assert.equal(factorial(0), 1);\nassert.equal(factorial(5), 120);\n"
        "assert.equal(factorial(10), 3628800);",
    ),
    _js_task(
        "js_gcd",
        "a JavaScript function gcd(a, b) that returns the greatest common divisor of two "
        "non-negative integers",
        "function gcd(a, b) {\n  while (b) [a, b] = [b, a % b];\n  return a;\n}",
        "assert.equal(gcd(12, 18), 6);\nassert.equal(gcd(7, 0), 7);\nassert.equal(gcd(17, 5), 1);",
    ),
    _js_task(
        "js_unique",
        "a JavaScript function unique(items) that returns the items of an array without "
        "duplicates, each where it first appeared",
        "function unique(items) {\n  return [...new Set(items)];\n}",
        "assert.deepEqual(unique([3, 1, 3, 2, 1]), [3, 1, 2]);\nassert.deepEqual(unique([]), []);",
    ),
    _js_task(
        "js_count_words",
        "a JavaScript function countWords(text) that returns an object mapping each "
        "lower-cased word (a run of letters) to how many times it occurs",
        "function countWords(text) {\n  const counts = {};\n"
        "  for (const w of text.toLowerCase().match(/[a-z]+/g) || []) "
        "counts[w] = (counts[w] || 0) + 1;\n  return counts;\n}",
        "assert.deepEqual(countWords('The cat and the hat.'), {the: 2, cat: 1, and: 1, hat: 1});"
        "\nassert.deepEqual(countWords(''), {});",
    ),
    _js_task(
        "js_chunk",
        "a JavaScript function chunk(items, size) that splits an array, in order, into arrays "
        "of at most size items",
        "function chunk(items, size) {\n  const out = [];\n"
        "  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));\n"
        "  return out;\n}",
        "assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);\n"
        "assert.deepEqual(chunk([], 3), []);",
    ),
    _js_task(
        "js_deep_flatten",
        "a JavaScript function deepFlatten(items) that flattens arrays nested to any depth "
        "into one array",
        "function deepFlatten(items) {\n  return items.flat(Infinity);\n}",
        "assert.deepEqual(deepFlatten([1, [2, [3, [4]]], 5]), [1, 2, 3, 4, 5]);\n"
        "assert.deepEqual(deepFlatten([]), []);",
    ),
    _js_task(
        "js_title_case",
        "a JavaScript function titleCase(text) that upper-cases the first letter of each "
        "space-separated word and lower-cases the rest",
        "function titleCase(text) {\n  return text.split(' ').map((w) => w.slice(0, 1)"
        ".toUpperCase() + w.slice(1).toLowerCase()).join(' ');\n}",
        "assert.equal(titleCase('hello WORLD'), 'Hello World');\nassert.equal(titleCase(''), '');",
    ),
)

TASKS: tuple[Task, ...] = PYTHON_TASKS + JAVASCRIPT_TASKS
