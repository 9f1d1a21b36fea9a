#!/usr/bin/python3
"""PyTorch reference logits for pairs that must be truncated, for winnow's truncation tests.

  /usr/bin/python3 tools/references/truncation.py            writes test/fixtures/truncation-reference.json
  /usr/bin/python3 tools/references/truncation.py --check    only checks the forward against the fixture model's reference.json

Needs Debian's python3-torch and python3-onnx. Independent of winnow and of onnxruntime:
- tokens: a BERT basic + WordPiece tokenizer written here, from the fixture's vocab.txt (lowercase);
- truncation: the rule of Hugging Face tokenizers' LongestFirst strategy (`truncate_encodings` in
  tokenizers/src/utils/truncation.rs), which sentence-transformers' CrossEncoder gets from
  `tokenizer(queries, passages, truncation=True, max_length=L)`: the budget is L minus the special tokens;
- logits: a PyTorch BERT forward whose weights are read from the fixture's fp32 ONNX initializers
  (the graph is only used to find which weight is which).
The forward and the tokenizer are first checked against the fixture's reference.json (logits computed in
PyTorch by the generator that made the model), so a mistake in either stops the script.
"""
import json, math, os, random, sys, unicodedata

import numpy as np
import onnx
from onnx import numpy_helper
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, 'test', 'fixtures', 'models', 'tiny-random-cross-encoder')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'truncation-reference.json')


# ---------------- tokenizer ----------------
def punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith('P')


def words_of(text):
    """BERT's basic tokenizer: clean, lowercase, strip accents, split on whitespace and punctuation."""
    kept = []
    for ch in text:
        if ord(ch) in (0, 0xFFFD) or (unicodedata.category(ch) in ('Cc', 'Cf') and ch not in '\t\n\r'):
            continue
        kept.append(' ' if ch.isspace() else ch)
    text = unicodedata.normalize('NFD', ''.join(kept).lower())
    text = ''.join(ch for ch in text if unicodedata.category(ch) != 'Mn')
    words = []
    for chunk in text.split():
        word = ''
        for ch in chunk:
            if punctuation(ch):
                if word:
                    words.append(word)
                words.append(ch)
                word = ''
            else:
                word += ch
        if word:
            words.append(word)
    return words


class Tokenizer:
    def __init__(self, vocab_path):
        self.vocab = {t: i for i, t in enumerate(open(vocab_path, encoding='utf-8').read().split('\n')) if t}

    def pieces(self, word):
        if len(word) > 100:
            return ['[UNK]']
        out, start = [], 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else '##' + word[start:end]
                if piece in self.vocab:
                    out.append(piece)
                    start = end
                    break
            else:
                return ['[UNK]']
        return out

    def ids(self, text):
        return [self.vocab[p] for w in words_of(text) for p in self.pieces(w)]


# ---------------- truncation: tokenizers' LongestFirst ----------------
def longest_first(n1, n2, max_length):
    if n1 + n2 <= max_length:
        return n1, n2
    swap = n1 > n2
    if swap:
        n1, n2 = n2, n1
    n2 = n1 if n1 > max_length else max(n1, max_length - n1)
    if n1 + n2 > max_length:
        n1 = max_length // 2
        n2 = n1 + max_length % 2
    return (n2, n1) if swap else (n1, n2)


def encode_pair(tok, query, document, max_length):
    q, d = tok.ids(query), tok.ids(document)
    keep_q, keep_d = longest_first(len(q), len(d), max_length - 3)  # [CLS] q [SEP] d [SEP]
    keep_q, keep_d = min(keep_q, len(q)), min(keep_d, len(d))
    cls, sep = tok.vocab['[CLS]'], tok.vocab['[SEP]']
    ids = [cls] + q[:keep_q] + [sep] + d[:keep_d] + [sep]
    types = [0] * (keep_q + 2) + [1] * (keep_d + 1)
    return dict(query_tokens=len(q), document_tokens=len(d), kept_query=keep_q, kept_document=keep_d,
                input_ids=ids, token_type_ids=types)


# ---------------- model: weights from the ONNX file, forward in PyTorch ----------------
def load_weights(path):
    graph = onnx.load(path).graph
    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    # Constant folding stored each Linear weight transposed under an anonymous name (onnx::MatMul_N):
    # name it after the bias added to that MatMul's output.
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    weights = dict(init)
    for node in graph.node:
        if node.op_type == 'MatMul' and node.input[1] in init and node.input[1].startswith('onnx::'):
            adds = [n for n in consumers.get(node.output[0], []) if n.op_type == 'Add']
            bias = [i for n in adds for i in n.input if i.endswith('.bias') and i in init]
            if len(bias) != 1:
                sys.exit('cannot tell which Linear %s belongs to' % node.input[1])
            weights[bias[0][:-len('.bias')] + '.weight_t'] = init[node.input[1]]
    # Every LayerNorm of this generator keeps its initial affine (ones, zeros); the exporter shares them.
    for node in graph.node:
        if node.op_type == 'Identity' and node.input[0] not in ('ln.weight', 'ln.bias'):
            sys.exit('unexpected shared initializer %s' % node.input[0])
    assert torch.equal(init['ln.weight'], torch.ones_like(init['ln.weight']))
    assert torch.equal(init['ln.bias'], torch.zeros_like(init['ln.bias']))
    return weights


def forward(w, cfg, ids, types):
    H, NH, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['layer_norm_eps']
    ln = lambda x: torch.nn.functional.layer_norm(x, (H,), w['ln.weight'], w['ln.bias'], eps)
    lin = lambda x, name: x @ w[name + '.weight_t'] + w[name + '.bias']
    ids, types = torch.tensor([ids]), torch.tensor([types])
    T = ids.shape[1]
    x = ln(w['word.weight'][ids] + w['pos.weight'][torch.arange(T)][None] + w['tok_type.weight'][types])
    HD = H // NH
    heads = lambda t: t.view(1, T, NH, HD).transpose(1, 2)
    for layer in range(cfg['num_hidden_layers']):
        p = 'layers.%d.' % layer
        q, k, v = heads(lin(x, p + 'q')), heads(lin(x, p + 'k')), heads(lin(x, p + 'v'))
        att = (q @ k.transpose(-1, -2) / math.sqrt(HD)).softmax(-1)  # one unpadded row: no mask
        x = ln(x + lin((att @ v).transpose(1, 2).reshape(1, T, H), p + 'o'))
        x = ln(x + lin(torch.nn.functional.gelu(lin(x, p + 'fc1')), p + 'fc2'))
    pooled = torch.tanh(x[:, 0] @ w['pooler.weight'].T + w['pooler.bias'])
    return float((pooled @ w['classifier.weight'].T + w['classifier.bias'])[0, 0])


# ---------------- cases ----------------
def cases(tok):
    rng = random.Random(20)
    whole = sorted(t for t in tok.vocab if t.isalpha() and len(t) > 1 and not t.startswith('['))
    text = lambda n: ' '.join(rng.choice(whole) for _ in range(n))  # n words of one token each
    out = []

    def case(name, max_length, query_tokens, document_tokens, expect, query=None):
        query, document = query or text(query_tokens), text(document_tokens)
        enc = encode_pair(tok, query, document, max_length)
        assert (enc['query_tokens'], enc['document_tokens']) == (query_tokens, document_tokens), name
        assert (enc['kept_query'], enc['kept_document']) == expect, (name, enc['kept_query'], enc['kept_document'])
        out.append(dict(name=name, max_length=max_length, query=query, document=document, **enc))

    # maxLength 128: budget 125 (odd); 127: budget 124 (even)
    case('fits: 90-token query, 1-token passage', 128, 90, 1, (90, 1))
    case('only the passage is long', 128, 10, 300, (10, 115))
    case('only the query is long', 128, 200, 8, (117, 8))
    case('both long, odd budget, passage longer', 128, 100, 150, (62, 63))
    case('both long, odd budget, query longer', 128, 150, 100, (63, 62))
    case('both long, odd budget, as long', 128, 80, 80, (62, 63))
    case('both long, even budget, passage longer', 127, 100, 150, (62, 62))
    case('both long, even budget, as long', 127, 70, 70, (62, 62))
    case('exactly the budget', 128, 70, 55, (70, 55))
    case('budget + 1, passage longer', 128, 60, 66, (60, 65))
    case('budget + 1, query longer', 128, 66, 60, (65, 60))
    case('budget + 1, as long', 128, 63, 63, (62, 63))
    # a passage long enough for winnow's pre-cut (over 32 characters per kept token) with a query over
    # the budget: the whole passage is longer than the query, so the query gets the smaller half
    case('huge passage, query over the budget', 128, 130, 2000, (62, 63))
    # one query, passages of several lengths (winnow scores them in one call): the query is cut for some only
    shared = text(100)
    case('one call: fits', 128, 100, 1, (100, 1), shared)
    case('one call: shorter passage kept whole', 128, 100, 50, (75, 50), shared)
    case('one call: both long', 128, 100, 150, (62, 63), shared)
    return out


def main():
    cfg = json.load(open(os.path.join(MODEL, 'config.json')))
    tok = Tokenizer(os.path.join(MODEL, 'vocab.txt'))
    w = load_weights(os.path.join(MODEL, 'onnx', 'model.onnx'))
    # the forward and the tokenizer reproduce the generator's own PyTorch references
    for ref in json.load(open(os.path.join(MODEL, 'reference.json')))['pairs']:
        enc = encode_pair(tok, ref['query'], ref['document'], 128)
        assert enc['input_ids'] == ref['input_ids'] and enc['token_type_ids'] == ref['token_type_ids'], ref['query']
        logit = forward(w, cfg, enc['input_ids'], enc['token_type_ids'])
        assert abs(logit - ref['logit']) < 1e-5, (ref['query'], logit, ref['logit'])
    print('forward and tokenizer match reference.json')
    if '--check' in sys.argv:
        return
    out = cases(tok)
    with torch.no_grad():
        for c in out:
            c['logit'] = forward(w, cfg, c['input_ids'], c['token_type_ids'])
    note = ('PyTorch fp32 logits of tiny-random-cross-encoder for pairs cut longest-first (Hugging Face tokenizers '
            'LongestFirst, as sentence-transformers CrossEncoder truncates); made by tools/references/truncation.py')
    with open(OUT, 'w') as f:
        json.dump(dict(note=note, model='tiny-random-cross-encoder', cases=out), f, indent=1)
        f.write('\n')
    for c in out:
        print('%-45s max %d  q %3d->%3d  d %4d->%3d  logit %+.6f' % (c['name'], c['max_length'], c['query_tokens'],
              c['kept_query'], c['document_tokens'], c['kept_document'], c['logit']))


if __name__ == '__main__':
    main()
