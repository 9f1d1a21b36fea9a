#!/usr/bin/python3
"""Random-weight fixtures of the model families winnow is checked against, in the transformers.js folder layout.

  tools/models/families.py OUTDIR            every family below
  tools/models/families.py OUTDIR NAME...    only those

Needs Debian's python3-torch, python3-onnx, python3-numpy and python3-sentencepiece (no transformers or
tokenizers package, no downloads). Deterministic for SEED (default 1234). q8 and q4 weights come from the
workplace's quantize.py (../shared/tools/models, or WINNOW_QUANTIZE=path/to/quantize.py); fp16 and q4f16
are made here.

What is real and what is not. Each fixture copies what decides how winnow feeds the model: config.json
(model_type, architectures, special token ids, max_position_embeddings, type_vocab_size, ...), the
tokenizer files (tokenizer.json with the real family's normalizer, pre-tokenizer, model type and
post-processor; tokenizer_config.json; special_tokens_map.json) and the ONNX graph's input and output
names. The network inside is a small stand-in (embeddings -> one attention layer -> a [CLS] head or the
token vectors), with random weights: its scores mean nothing. The vocabularies are synthetic: the
SentencePiece models are trained here on text this script writes, the BPE merges learnt here, the
WordPiece vocabularies listed here.

reference.json holds the inputs, the token ids of this script's own reference tokenizer (the
sentencepiece library itself for SentencePiece families, with the id mapping of Hugging Face's
converters; a reference WordPiece or byte-level BPE written here otherwise) and the outputs of a
PyTorch forward pass of the same weights (logits, or pooled and L2-normalised embeddings).
"""
import base64, json, math, os, random, re, subprocess, sys, tempfile, unicodedata
import numpy as np
import torch
from torch import nn

SEED = int(os.environ.get('SEED', '1234'))
HERE = os.path.dirname(os.path.abspath(__file__))
QUANTIZE = os.environ.get('WINNOW_QUANTIZE') or os.path.join(HERE, '..', '..', '..', 'shared', 'tools', 'models', 'quantize.py')

# ---------------------------------------------------------------- synthetic text
WORDS = {
    'en': 'the capital of france is paris a river runs through the city what causes memory leaks circular references '
          'prevent garbage collection how to rank documents neural ranking model scores each query document pair '
          'weather today sun rain cat dog search engine browser worker storage index quick brown fox jumps over lazy'.split(),
    'fr': 'la capitale de la france est paris une rivière traverse la ville où se trouve le musée quel temps fait il '
          'aujourd hui les chats et les chiens réseau neuronal moteur de recherche fuite de mémoire'.split(),
    'de': 'die hauptstadt von frankreich ist paris ein fluss fließt durch die stadt wie ordnet man dokumente '
          'größe über straße hund katze wetter heute suchmaschine speicher'.split(),
    'es': 'la capital de francia es parís el río atraviesa la ciudad dónde está el museo qué tiempo hace hoy '
          'perro gato motor de búsqueda niño año'.split(),
    'ru': 'столица франции париж река течёт через город москва столица россии поиск документ память'.split(),
    'el': 'η πρωτεύουσα της γαλλίας είναι το παρίσι ποτάμι πόλη'.split(),
}

def corpus(rng, lines=1500):
    out = []
    langs = sorted(WORDS)
    for _ in range(lines):
        words = WORDS[rng.choice(langs)]
        n = rng.randint(4, 12)
        s = ' '.join(rng.choice(words) for _ in range(n))
        s = s[0].upper() + s[1:]
        out.append(s + rng.choice(['.', ' ?', '!', '', ',', ' 2024.', ' 42 km.']))
    return out

PAIRS = [
    ['what is the capital of france', 'paris is the capital city of france'],
    ['what is the capital of france', 'the quick brown fox jumps over the lazy dog'],
    ['how to rank documents', 'a neural ranking model scores each query document pair'],
    ['What causes memory leaks?', 'Circular references prevent garbage collection, and leak memory.'],
]
MULTILINGUAL_PAIRS = PAIRS[:3] + [
    ['Quelle est la capitale de la France ?', 'Paris est la capitale de la France, la Seine traverse la ville.'],
    ['Wie ordnet man Dokumente?', 'Die Suchmaschine ordnet jedes Dokument nach Größe.'],
    ['¿Dónde está el río?', 'El río atraviesa la ciudad de París.'],
    ['Столица России', 'Москва — столица России.'],
    ['ＡＢＣ full width ８０', 'Η πρωτεύουσα της Γαλλίας είναι το Παρίσι 漢'],  # NFKC folding; 漢 is unknown
]

# ---------------------------------------------------------------- SentencePiece (Unigram) tokenizers
def train_spm(workdir, name, extra):
    import sentencepiece as spm
    rng = random.Random(SEED)
    text = os.path.join(workdir, name + '.txt')
    with open(text, 'w', encoding='utf-8') as f:
        f.write('\n'.join(corpus(rng)) + '\n')
    prefix = os.path.join(workdir, name)
    # The real models' charsmap is sentencepiece's nmt_nfkc table (about 240 kB of base64 in tokenizer.json). Here a
    # small table with NFKC's full-width folding only: transformers.js 4.3.1 reads no table (its Precompiled
    # normalizer applies NFKC), and this script's texts need no other rule.
    rules = os.path.join(workdir, name + '.tsv')
    with open(rules, 'w') as f:
        f.write(''.join('%X\t%X\n' % (c, c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + '3000\t20\n')
    spm.SentencePieceTrainer.train(input=text, model_prefix=prefix, model_type='unigram', vocab_size=320,
                                   character_coverage=1.0, num_threads=1, shuffle_input_sentence=False,
                                   normalization_rule_tsv=rules, minloglevel=2, **extra)
    sp = spm.SentencePieceProcessor(model_file=prefix + '.model')
    from sentencepiece import sentencepiece_model_pb2 as pb
    proto = pb.ModelProto()
    proto.ParseFromString(open(prefix + '.model', 'rb').read())
    return sp, proto

def spm_normalizer(proto, lowercase=False, strip=False):
    """As Hugging Face's SpmConverter writes it: the model's own NFKC-based charsmap, spaces collapsed."""
    steps = ([{'type': 'Lowercase'}] if lowercase else []) + ([{'type': 'Strip', 'strip_left': True, 'strip_right': True}] if strip else [])
    steps.append({'type': 'Precompiled', 'precompiled_charsmap': base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode()})
    steps.append({'type': 'Replace', 'pattern': {'Regex': ' {2,}'}, 'content': ' '})
    return {'type': 'Sequence', 'normalizers': steps}

METASPACE = {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True}

def added(tokens, ids, lstrip=()):
    return [dict(id=ids[t], content=t, single_word=False, lstrip=t in lstrip, rstrip=False, normalized=False, special=True) for t in tokens]

def template(single, pair, specials, ids):
    def items(spec):
        out = []
        for part in spec.split():
            tok, _, type_id = part.partition(':')
            type_id = int(type_id or 0)
            out.append({'Sequence': {'id': tok[1:], 'type_id': type_id}} if tok in ('$A', '$B') else {'SpecialToken': {'id': tok, 'type_id': type_id}})
        return out
    return {'type': 'TemplateProcessing', 'single': items(single), 'pair': items(pair),
            'special_tokens': {t: {'id': t, 'ids': [ids[t]], 'tokens': [t]} for t in specials}}

def xlmr_tokenizer(sp, proto):
    """XLMRobertaConverter: <s>=0 <pad>=1 </s>=2 <unk>=3, the model's pieces from id 3 on shifted by one
    (fairseq's dictionary), <mask> last; pair template <s> A </s></s> B </s>, every type id 0."""
    vocab = [['<s>', 0.0], ['<pad>', 0.0], ['</s>', 0.0], ['<unk>', 0.0]]
    vocab += [[p.piece, p.score] for p in proto.pieces[3:]] + [['<mask>', 0.0]]
    ids = {t: i for i, (t, _) in enumerate(vocab)}
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': added(['<s>', '<pad>', '</s>', '<unk>', '<mask>'], ids, lstrip=('<mask>',)),
        'normalizer': spm_normalizer(proto), 'pre_tokenizer': METASPACE,
        'post_processor': template('<s> $A </s>', '<s> $A </s> </s> $B </s>', ['<s>', '</s>'], ids),
        'decoder': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
        'model': {'type': 'Unigram', 'unk_id': 3, 'vocab': vocab, 'byte_fallback': False},
    }
    def to_ids(text):  # XLMRobertaTokenizer._convert_token_to_id: spm id + 1, spm's <unk> (0) -> 3
        return [i + 1 if i else 3 for i in sp.encode(text)]
    def encode(a, b=None):
        x = [0] + to_ids(a) + [2]
        if b is not None:
            x += [2] + to_ids(b) + [2]
        return x, [0] * len(x)
    special = {'bos_token': '<s>', 'cls_token': '<s>', 'eos_token': '</s>', 'sep_token': '</s>', 'pad_token': '<pad>', 'unk_token': '<unk>',
               'mask_token': {'content': '<mask>', 'lstrip': True, 'normalized': False, 'rstrip': False, 'single_word': False}}
    return tok, ids, encode, special, 'XLMRobertaTokenizer'

def deberta_tokenizer(sp, proto):
    """DebertaV2Converter (DeBERTa-v3 spm.model: [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3): the model's pieces as
    they are, [MASK] appended; pair [CLS] A [SEP] B [SEP] with type ids 0 then 1."""
    vocab = [[p.piece, p.score] for p in proto.pieces] + [['[MASK]', 0.0]]
    ids = {t: i for i, (t, _) in enumerate(vocab)}
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': added(['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'], ids),
        'normalizer': spm_normalizer(proto, strip=True), 'pre_tokenizer': METASPACE,
        'post_processor': template('[CLS]:0 $A:0 [SEP]:0', '[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1', ['[CLS]', '[SEP]'], ids),
        'decoder': {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'always', 'split': True},
        'model': {'type': 'Unigram', 'unk_id': proto.trainer_spec.unk_id, 'vocab': vocab, 'byte_fallback': False},
    }
    def encode(a, b=None):
        x = [1] + sp.encode(a) + [2]
        t = [0] * len(x)
        if b is not None:
            y = sp.encode(b) + [2]
            x += y; t += [1] * len(y)
        return x, t
    special = {'bos_token': '[CLS]', 'cls_token': '[CLS]', 'eos_token': '[SEP]', 'sep_token': '[SEP]', 'pad_token': '[PAD]',
               'unk_token': '[UNK]', 'mask_token': '[MASK]'}
    return tok, ids, encode, special, 'DebertaV2Tokenizer'

# ---------------------------------------------------------------- WordPiece (BERT-style) tokenizers
def wordpiece_vocab(specials):
    letters = [chr(c) for c in range(ord('a'), ord('z') + 1)]
    digits = [str(d) for d in range(10)]
    punct = list('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')
    words = sorted({w for p in PAIRS for s in p for w in re.findall(r'[a-z]+', s.lower())} | set(WORDS['en']))
    pieces = ['##' + c for c in letters + digits] + ['##s', '##ing', '##ed', '##er', '##ly', '##tion']
    vocab = []
    for t in specials + punct + digits + letters + words + pieces:
        if t not in vocab:
            vocab.append(t)
    return vocab

def is_punct(ch):
    cp = ord(ch)
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or unicodedata.category(ch).startswith('P')

def bert_words(text):
    """BertNormalizer (lowercase, accents stripped, control characters dropped) + BertPreTokenizer."""
    text = ''.join(' ' if ch.isspace() else ch for ch in text if ord(ch) not in (0, 0xFFFD) and not unicodedata.category(ch).startswith('C'))
    text = ''.join(ch for ch in unicodedata.normalize('NFD', text.lower()) if unicodedata.category(ch) != 'Mn')
    out = []
    for w in text.split():
        cur = ''
        for ch in w:
            if is_punct(ch):
                out += [cur] if cur else []
                out.append(ch); cur = ''
            else:
                cur += ch
        out += [cur] if cur else []
    return out

def wordpiece(word, ids, unk):
    toks, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start and (word[start:end] if start == 0 else '##' + word[start:end]) not in ids:
            end -= 1
        if end == start:
            return [unk]
        toks.append(word[start:end] if start == 0 else '##' + word[start:end]); start = end
    return toks

def bert_style_tokenizer(cls, sep, pad, unk, mask, specials, pair_sep_twice=False, types=True, tokenizer_class='BertTokenizer'):
    vocab = wordpiece_vocab(specials)
    ids = {t: i for i, t in enumerate(vocab)}
    pair = f'{cls}:0 $A:0 {sep}:0 {sep}:0 $B:1 {sep}:1' if pair_sep_twice else f'{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1'
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added(specials, ids, lstrip=(mask,) if mask == '<mask>' else ()),
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': template(f'{cls}:0 $A:0 {sep}:0', pair, [cls, sep], ids),
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': unk, 'continuing_subword_prefix': '##', 'max_input_chars_per_word': 100, 'vocab': ids},
    }
    def to_ids(text):
        return [ids[p] for w in bert_words(text) for p in wordpiece(w, ids, unk)]
    def encode(a, b=None):
        x = [ids[cls]] + to_ids(a) + [ids[sep]]
        t = [0] * len(x)
        if b is not None:
            y = ([ids[sep]] if pair_sep_twice else []) + to_ids(b) + [ids[sep]]
            x += y; t += [1] * len(y)
        return x, t
    special = {'cls_token': cls, 'sep_token': sep, 'pad_token': pad, 'unk_token': unk, 'mask_token': mask}
    if cls == '<s>':
        special.update(bos_token='<s>', eos_token='</s>')
    return tok, ids, encode, special, tokenizer_class, vocab

# ---------------------------------------------------------------- byte-level BPE (GPT-NeoX / OLMo style, ModernBERT)
def bytes_to_unicode():
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b); cs.append(256 + n); n += 1
    return dict(zip(bs, map(chr, cs)))

B2U = bytes_to_unicode()
# GPT-2's pattern; Python's re has no \p{L}: [^\W\d_] is a letter, \d a number (the same on the texts used here).
GPT2_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")

def byte_words(text):
    return [''.join(B2U[b] for b in w.encode('utf-8')) for w in GPT2_SPLIT.findall(unicodedata.normalize('NFC', text))]

def learn_bpe(texts, merges_wanted):
    counts = {}
    for t in texts:
        for w in byte_words(t):
            counts[tuple(w)] = counts.get(tuple(w), 0) + 1
    merges = []
    for _ in range(merges_wanted):
        pairs = {}
        for w, c in counts.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        new = {}
        for w, c in counts.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1]); i += 2
                else:
                    out.append(w[i]); i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + c
        counts = new
    return merges

def bpe_word(word, ranks):
    parts = list(word)
    while len(parts) > 1:
        best = min(((ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))))
        if best[0] == math.inf:
            break
        i = best[1]
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return parts

def modernbert_tokenizer():
    """ModernBERT's tokenizer (OLMo's GPT-NeoX-style byte-level BPE): NFC, ByteLevel without a prefix
    space, [CLS] A [SEP] / [CLS] A [SEP] B [SEP]; its special tokens follow the BPE vocabulary."""
    rng = random.Random(SEED)
    texts = corpus(rng, 800) + [s for p in PAIRS for s in p]
    merges = learn_bpe([t for t in texts if t.isascii()], 160)
    vocab = ['<|endoftext|>', '<|padding|>'] + [B2U[b] for b in range(256)]
    for a, b in merges:
        if a + b not in vocab:
            vocab.append(a + b)
    specials = ['[UNK]', '[CLS]', '[SEP]', '[PAD]', '[MASK]']
    vocab += specials
    ids = {t: i for i, t in enumerate(vocab)}
    ranks = {m: i for i, m in enumerate(merges)}
    tok = {
        'version': '1.0', 'truncation': None, 'padding': None,
        'added_tokens': added(['<|endoftext|>', '<|padding|>'] + specials, ids, lstrip=('[MASK]',)),
        'normalizer': {'type': 'NFC'},
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': True},
        'post_processor': template('[CLS]:0 $A:0 [SEP]:0', '[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1', ['[CLS]', '[SEP]'], ids),
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': None, 'continuing_subword_prefix': '', 'end_of_word_suffix': '',
                  'fuse_unk': False, 'byte_fallback': False, 'ignore_merges': False, 'vocab': ids, 'merges': [f'{a} {b}' for a, b in merges]},
    }
    def to_ids(text):
        return [ids[p] for w in byte_words(text) for p in bpe_word(w, ranks)]
    def encode(a, b=None):
        x = [ids['[CLS]']] + to_ids(a) + [ids['[SEP]']]
        t = [0] * len(x)
        if b is not None:
            y = to_ids(b) + [ids['[SEP]']]
            x += y; t += [1] * len(y)
        return x, t
    special = {'cls_token': '[CLS]', 'sep_token': '[SEP]', 'pad_token': '[PAD]', 'unk_token': '[UNK]',
               'mask_token': {'content': '[MASK]', 'lstrip': True, 'normalized': False, 'rstrip': False, 'single_word': False}}
    return tok, ids, encode, special, 'PreTrainedTokenizerFast'

# ---------------------------------------------------------------- the stand-in network
class Encoder(nn.Module):
    """Embeddings (word, optional positions and token types) -> LayerNorm -> one attention + FFN layer ->
    logits from the first token, or the token vectors. `positions`: 'absolute' (0, 1, ...), 'offset'
    (RoBERTa/XLM-R/MPNet: from pad_token_id + 1, counting non-pad tokens, computed from input_ids inside the
    graph as the real exports do) or 'none' (DeBERTa-v2's relative attention, ModernBERT's rotary: no table)."""
    def __init__(s, V, P, H, positions, type_vocab, pad_id, head, num_labels=1, eps=1e-5, std=0.3):
        super().__init__()
        s.positions, s.pad_id, s.head, s.H, s.NH = positions, pad_id, head, H, 4
        s.word = nn.Embedding(V, H)
        s.pos = nn.Embedding(P, H) if positions != 'none' else None
        s.types = nn.Embedding(type_vocab, H) if type_vocab else None
        s.ln0, s.ln1, s.ln2 = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)
        s.q, s.k, s.v, s.o = (nn.Linear(H, H) for _ in range(4))
        s.fc1, s.fc2 = nn.Linear(H, 2 * H), nn.Linear(2 * H, H)
        if head:
            s.pooler, s.classifier = nn.Linear(H, H), nn.Linear(H, num_labels)
        for n, p in s.named_parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=std)
            elif not n.startswith('ln'):
                nn.init.normal_(p, std=std / 6)

    def forward(s, input_ids, attention_mask, token_type_ids=None):
        B, T = input_ids.shape
        x = s.word(input_ids)
        if s.positions == 'absolute':
            x = x + s.pos(torch.arange(T).unsqueeze(0))
        elif s.positions == 'offset':
            real = input_ids.ne(s.pad_id).long()
            x = x + s.pos(torch.cumsum(real, dim=1) * real + s.pad_id)
        if s.types is not None:
            x = x + s.types(token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids))
        x = s.ln0(x)
        HD = s.H // s.NH
        split = lambda t: t.view(B, T, s.NH, HD).transpose(1, 2)
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        att = torch.matmul(split(s.q(x)), split(s.k(x)).transpose(-1, -2)) / math.sqrt(HD) + mask
        ctx = torch.matmul(att.softmax(-1), split(s.v(x))).transpose(1, 2).reshape(B, T, s.H)
        x = s.ln1(x + s.o(ctx))
        x = s.ln2(x + s.fc2(nn.functional.gelu(s.fc1(x))))
        if s.head:
            return s.classifier(torch.tanh(s.pooler(x[:, 0])))
        return x

# ---------------------------------------------------------------- fp16 and q4f16
def to_fp16(src, dst):
    """fp16 weights and arithmetic, float32 outputs (as onnxconverter-common's keep_io_types makes them)."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    m = onnx.load(src)
    g = m.graph
    for i, init in enumerate(g.initializer):
        if init.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
            if n.op_type == 'Cast' and a.name == 'to' and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
    del g.value_info[:]
    for out in g.output:
        inner = out.name + '_fp16'
        for n in g.node:
            for j, name in enumerate(n.output):
                if name == out.name:
                    n.output[j] = inner
        g.node.append(helper.make_node('Cast', [inner], [out.name], to=TensorProto.FLOAT, name=out.name + '_to_float'))
    onnx.checker.check_model(m)
    onnx.save(m, dst)

def to_q4f16(src, dst, block=32):
    """MatMul with an fp16 weight -> com.microsoft MatMulNBits (4 bits, blocks of 32, symmetric, fp16 scales)."""
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    nodes, drop, extra = [], set(), []
    for n in g.node:
        w = inits.get(n.input[1]) if n.op_type == 'MatMul' and len(n.input) > 1 else None
        if w is None or len(w.dims) != 2:
            nodes.append(n); continue
        W = numpy_helper.to_array(w).astype(np.float32)
        K, N = W.shape
        nb = -(-K // block)
        padded = np.zeros((N, nb * block), np.float32)
        padded[:, :K] = W.T
        blocks = padded.reshape(N, nb, block)
        scales = np.abs(blocks).max(-1) / 7.0
        scales[scales == 0] = 1.0
        scales = scales.astype(np.float16)
        q = np.clip(np.round(blocks / scales.astype(np.float32)[..., None]), -8, 7).astype(np.int16) + 8
        packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
        name = w.name + '_q4f16'
        extra += [numpy_helper.from_array(packed, name), numpy_helper.from_array(scales.reshape(-1), name + '_scales')]
        drop.add(w.name)
        nodes.append(helper.make_node('MatMulNBits', [n.input[0], name, name + '_scales'], list(n.output), name=(n.name or n.output[0]) + '_q4',
                                      domain='com.microsoft', K=K, N=N, bits=4, block_size=block))
    del g.node[:]; g.node.extend(nodes)
    keep = [i for i in g.initializer if i.name not in drop]
    del g.initializer[:]; g.initializer.extend(keep + extra)
    if not any(o.domain == 'com.microsoft' for o in m.opset_import):
        m.opset_import.append(helper.make_opsetid('com.microsoft', 1))
    onnx.save(m, dst)

# ---------------------------------------------------------------- families
H = 16
FAMILIES = {
    # BAAI/bge-reranker-base, BAAI/bge-reranker-v2-m3, jinaai-free XLM-R rerankers
    'xlm-roberta-cross-encoder': dict(tokenizer='xlmr', model_type='xlm-roberta', arch='XLMRobertaForSequenceClassification',
                                      head=True, positions='offset', P=514, type_vocab=1, token_types=False, max_len=512,
                                      like=['BAAI/bge-reranker-base', 'BAAI/bge-reranker-v2-m3'], f16=True),
    # intfloat/multilingual-e5-base and -large (multilingual-e5-small is a BERT body with this tokenizer)
    'xlm-roberta-embedder': dict(tokenizer='xlmr', model_type='xlm-roberta', arch='XLMRobertaModel', head=False, positions='offset',
                                 P=514, type_vocab=1, token_types=False, max_len=512, pooling='mean',
                                 like=['intfloat/multilingual-e5-base', 'intfloat/multilingual-e5-large']),
    # mixedbread-ai/mxbai-rerank-xsmall-v1 and -base-v1 (DeBERTa-v3: type_vocab_size 0, so no token_type_ids input)
    'deberta-v2-cross-encoder': dict(tokenizer='deberta', model_type='deberta-v2', arch='DebertaV2ForSequenceClassification', head=True,
                                     positions='none', P=512, type_vocab=0, token_types=False, max_len=512,
                                     like=['mixedbread-ai/mxbai-rerank-xsmall-v1', 'mixedbread-ai/mxbai-rerank-base-v1']),
    # Alibaba-NLP/gte-reranker-modernbert-base
    'modernbert-cross-encoder': dict(tokenizer='modernbert', model_type='modernbert', arch='ModernBertForSequenceClassification', head=True,
                                     positions='none', P=8192, type_vocab=0, token_types=False, max_len=8192,
                                     like=['Alibaba-NLP/gte-reranker-modernbert-base']),
    # BAAI/bge-small-en-v1.5, bge-base-en-v1.5: BERT, CLS pooling (1_Pooling/config.json says so)
    'bert-cls-embedder': dict(tokenizer='bert', model_type='bert', arch='BertModel', head=False, positions='absolute', P=512, type_vocab=2,
                              token_types=True, max_len=512, pooling='cls', like=['BAAI/bge-small-en-v1.5', 'BAAI/bge-base-en-v1.5'], f16=True),
    # intfloat/e5-small-v2, thenlper/gte-small: BERT, mean pooling
    'bert-mean-embedder': dict(tokenizer='bert', model_type='bert', arch='BertModel', head=False, positions='absolute', P=512, type_vocab=2,
                               token_types=True, max_len=512, pooling='mean', like=['intfloat/e5-small-v2', 'thenlper/gte-small']),
    # sentence-transformers/all-mpnet-base-v2: MPNet, <s> </s> around WordPiece, no token_type_ids, positions from pad + 1
    'mpnet-embedder': dict(tokenizer='mpnet', model_type='mpnet', arch='MPNetModel', head=False, positions='offset', P=514, type_vocab=0,
                           token_types=False, max_len=512, pooling='mean', like=['sentence-transformers/all-mpnet-base-v2']),
    # sentence-transformers/msmarco-distilbert-base-v4, multi-qa-distilbert-cos-v1: no token_type_ids
    'distilbert-embedder': dict(tokenizer='distilbert', model_type='distilbert', arch='DistilBertModel', head=False, positions='absolute',
                                P=512, type_vocab=0, token_types=False, max_len=512, pooling='mean',
                                like=['sentence-transformers/msmarco-distilbert-base-v4']),
    # cross-encoder/ms-marco-electra-base
    'electra-cross-encoder': dict(tokenizer='bert', model_type='electra', arch='ElectraForSequenceClassification', head=True,
                                  positions='absolute', P=512, type_vocab=2, token_types=True, max_len=512,
                                  like=['cross-encoder/ms-marco-electra-base']),
    # nomic-ai/nomic-embed-text-v1.5 (rotary positions: no table), mean pooling
    'nomic-bert-embedder': dict(tokenizer='bert', model_type='nomic_bert', arch='NomicBertModel', head=False, positions='none', P=8192,
                                type_vocab=2, token_types=True, max_len=8192, pooling='mean', like=['nomic-ai/nomic-embed-text-v1.5']),
}

def make_tokenizer(kind, workdir):
    if kind == 'xlmr':
        sp, proto = train_spm(workdir, 'xlmr', {})
        return xlmr_tokenizer(sp, proto)
    if kind == 'deberta':
        sp, proto = train_spm(workdir, 'deberta', dict(pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece='[PAD]', bos_piece='[CLS]',
                                                       eos_piece='[SEP]', unk_piece='[UNK]'))
        return deberta_tokenizer(sp, proto)
    if kind == 'modernbert':
        return modernbert_tokenizer()
    if kind == 'bert':
        return bert_style_tokenizer('[CLS]', '[SEP]', '[PAD]', '[UNK]', '[MASK]', ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'])[:5]
    if kind == 'distilbert':
        return bert_style_tokenizer('[CLS]', '[SEP]', '[PAD]', '[UNK]', '[MASK]', ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'],
                                    tokenizer_class='DistilBertTokenizer')[:5]
    if kind == 'mpnet':
        return bert_style_tokenizer('<s>', '</s>', '<pad>', '[UNK]', '<mask>', ['<s>', '<pad>', '</s>', '<unk>', '[UNK]', '<mask>'],
                                    pair_sep_twice=True, tokenizer_class='MPNetTokenizer')[:5]
    raise ValueError(kind)

def config_for(name, spec, ids, special, vocab_size):
    pad = ids[special['pad_token']]
    bos = ids.get(special.get('bos_token', special['cls_token']))
    eos = ids.get(special.get('eos_token', special['sep_token']))
    t = spec['model_type']
    c = {'architectures': [spec['arch']], 'model_type': t, 'vocab_size': vocab_size, 'pad_token_id': pad}
    if t == 'distilbert':
        c.update(dim=H, n_layers=1, n_heads=4, hidden_dim=2 * H, max_position_embeddings=spec['P'], sinusoidal_pos_embds=False,
                 activation='gelu', dropout=0.1, attention_dropout=0.1, seq_classif_dropout=0.2, qa_dropout=0.1, tie_weights_=True)
    elif t == 'nomic_bert':
        c.update(n_embd=H, n_head=4, n_layer=1, n_inner=2 * H, n_positions=spec['P'], type_vocab_size=spec['type_vocab'],
                 rotary_emb_fraction=1.0, rotary_emb_base=1000, rotary_emb_interleaved=False, activation_function='swiglu',
                 layer_norm_epsilon=1e-12, prenorm=False, causal=False, bos_token_id=None, eos_token_id=None)
    else:
        c.update(hidden_size=H, num_hidden_layers=1, num_attention_heads=4, intermediate_size=2 * H, hidden_act='gelu',
                 max_position_embeddings=spec['P'], layer_norm_eps=1e-5, initializer_range=0.3)
        if t in ('bert', 'electra', 'xlm-roberta', 'deberta-v2'):
            c['type_vocab_size'] = spec['type_vocab']
        if t in ('xlm-roberta', 'mpnet', 'modernbert', 'deberta-v2'):
            c.update(bos_token_id=bos, eos_token_id=eos)
        if t == 'xlm-roberta':
            c.update(position_embedding_type='absolute', hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
        if t == 'mpnet':
            c.update(relative_attention_num_buckets=32)
        if t == 'electra':
            c.update(embedding_size=H, summary_type='first', summary_use_proj=True, summary_activation='gelu', summary_last_dropout=0.1)
        if t == 'deberta-v2':
            c.update(position_biased_input=False, relative_attention=True, max_relative_positions=-1, position_buckets=256,
                     norm_rel_ebd='layer_norm', share_att_key=True, pos_att_type=['p2c', 'c2p'], pooler_hidden_size=H,
                     pooler_hidden_act='gelu', pooler_dropout=0)
        if t == 'modernbert':
            c.update(cls_token_id=ids['[CLS]'], sep_token_id=ids['[SEP]'], global_rope_theta=160000.0, local_rope_theta=10000.0,
                     global_attn_every_n_layers=3, local_attention=128, norm_eps=1e-5, classifier_pooling='mean', classifier_activation='gelu')
    if spec['head']:
        c.update(id2label={'0': 'LABEL_0'}, label2id={'LABEL_0': 0})
        if t != 'modernbert':
            c['problem_type'] = 'regression' if t != 'deberta-v2' else None
    c.update(torch_dtype='float32', transformers_version='4.48.0')
    return {k: v for k, v in c.items() if v is not None or k in ('bos_token_id', 'eos_token_id')}

def dump(obj, path):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write('\n')

def make(name, root):
    spec = FAMILIES[name]
    out = os.path.join(root, name)
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    for f in os.listdir(os.path.join(out, 'onnx')):
        os.remove(os.path.join(out, 'onnx', f))
    with tempfile.TemporaryDirectory() as work:
        tok, ids, encode, special, tokenizer_class = make_tokenizer(spec['tokenizer'], work)
    V = len(ids)
    vocab_size = V + (-V % 8) if spec['tokenizer'] in ('deberta', 'modernbert') else V  # both round their embedding tables up
    torch.manual_seed(SEED + sum(map(ord, name)))
    model = Encoder(vocab_size, spec['P'], H, spec['positions'], spec['type_vocab'], ids[special['pad_token']], spec['head']).eval()
    pad = ids[special['pad_token']]

    pairs = MULTILINGUAL_PAIRS if spec['tokenizer'] == 'xlmr' else PAIRS
    inputs = ['input_ids', 'attention_mask'] + (['token_type_ids'] if spec['token_types'] else [])

    def run(encs):
        T = max(len(e[0]) for e in encs)
        ids_ = torch.tensor([e[0] + [pad] * (T - len(e[0])) for e in encs])
        mask = torch.tensor([[1] * len(e[0]) + [0] * (T - len(e[0])) for e in encs])
        types = torch.tensor([e[1] + [0] * (T - len(e[1])) for e in encs])
        args = (ids_, mask, types) if spec['token_types'] else (ids_, mask)
        return args, model(*args)

    with torch.no_grad():
        refs = []
        if spec['head']:
            for q, d in pairs:
                x, t = encode(q, d)
                _, logits = run([(x, t)])
                ref = dict(query=q, document=d, input_ids=x, logit=float(logits[0, 0]))
                if spec['token_types'] or spec['tokenizer'] == 'deberta':
                    ref['token_type_ids'] = t
                refs.append(ref)
            encs = [encode(q, d) for q, d in pairs]
        else:
            texts = sorted({s for p in pairs for s in p})
            for text in texts:
                x, t = encode(text)
                _, h = run([(x, t)])
                e = h[0, 0] if spec['pooling'] == 'cls' else h[0].mean(0)
                e = e / e.norm()
                refs.append(dict(text=text, input_ids=x, embedding=[round(float(v), 7) for v in e]))
            encs = [encode(t) for t in texts]
        dummy, _ = run(encs)
    output = 'logits' if spec['head'] else 'last_hidden_state'
    dyn = {n: {0: 'batch_size', 1: 'sequence_length'} for n in inputs}
    dyn[output] = {0: 'batch_size'} if spec['head'] else {0: 'batch_size', 1: 'sequence_length'}
    fp32 = os.path.join(out, 'onnx', 'model.onnx')
    torch.onnx.export(model, dummy, fp32, input_names=inputs, output_names=[output], dynamic_axes=dyn, opset_version=14, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(fp32))
    subprocess.run([sys.executable, QUANTIZE, out], check=True, stdout=subprocess.DEVNULL)
    if spec.get('f16'):
        to_fp16(fp32, os.path.join(out, 'onnx', 'model_fp16.onnx'))
        to_q4f16(os.path.join(out, 'onnx', 'model_fp16.onnx'), os.path.join(out, 'onnx', 'model_q4f16.onnx'))

    dump(config_for(name, spec, ids, special, vocab_size), os.path.join(out, 'config.json'))
    dump(tok, os.path.join(out, 'tokenizer.json'))
    # As transformers >= 4.34 saves it: special tokens as strings, their flags in added_tokens_decoder
    # (special_tokens_map.json keeps the AddedToken objects).
    tc = {'added_tokens_decoder': {str(a['id']): {k: v for k, v in a.items() if k != 'id'} for a in tok['added_tokens']},
          'tokenizer_class': tokenizer_class, 'model_max_length': spec['max_len'], 'clean_up_tokenization_spaces': True}
    tc.update({k: v['content'] if isinstance(v, dict) else v for k, v in special.items()})
    if spec['tokenizer'] in ('bert', 'distilbert', 'mpnet'):
        tc.update(do_lower_case=True, strip_accents=None, tokenize_chinese_chars=True)
    if spec['tokenizer'] == 'deberta':
        tc.update(do_lower_case=False, split_by_punct=False, vocab_type='spm', sp_model_kwargs={})
    if spec['tokenizer'] == 'xlmr':
        tc.update(sp_model_kwargs={})
    if not spec['token_types']:
        tc['model_input_names'] = ['input_ids', 'attention_mask']
    dump(tc, os.path.join(out, 'tokenizer_config.json'))
    dump(special, os.path.join(out, 'special_tokens_map.json'))
    if not spec['head']:
        os.makedirs(os.path.join(out, '1_Pooling'), exist_ok=True)
        dump({'word_embedding_dimension': H, 'pooling_mode_cls_token': spec['pooling'] == 'cls',
              'pooling_mode_mean_tokens': spec['pooling'] == 'mean', 'pooling_mode_max_tokens': False,
              'pooling_mode_mean_sqrt_len_tokens': False, 'pooling_mode_weightedmean_tokens': False, 'pooling_mode_lasttoken': False,
              'include_prompt': True}, os.path.join(out, '1_Pooling', 'config.json'))
    note = (f'random weights, seed {SEED}: the outputs mean nothing. Shaped like {", ".join(spec["like"])} in config, tokenizer type '
            'and ONNX inputs/outputs; the network is a one-layer stand-in. Token ids from tools/models/families.py\'s reference '
            'tokenizer, outputs from a PyTorch fp32 forward of the same weights.')
    ref = dict(note=note, family=spec['model_type'], like=spec['like'], inputs=inputs, output=output)
    if spec['head']:
        ref['pairs'] = refs
    else:
        ref.update(pooling=spec['pooling'], normalize=True, texts=refs)
    dump(ref, os.path.join(out, 'reference.json'))
    sizes = {f: os.path.getsize(os.path.join(out, 'onnx', f)) for f in sorted(os.listdir(os.path.join(out, 'onnx')))}
    print(name, 'vocab', V, 'onnx bytes', sum(sizes.values()), sizes)

if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for name in sys.argv[2:] or FAMILIES:
        if name not in FAMILIES:
            sys.exit('unknown family %r; known: %s' % (name, ', '.join(FAMILIES)))
        make(name, os.path.abspath(sys.argv[1]))
