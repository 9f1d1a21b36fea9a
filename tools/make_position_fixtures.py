#!/usr/bin/python3
"""Tiny RoBERTa-shaped models for winnow's position-offset and fault-recovery tests, with PyTorch references.

  /usr/bin/python3 tools/make_position_fixtures.py     writes test/fixtures/models/families/{position-offset-*,fault-*}

Needs Debian's python3-torch and python3-onnx. Deterministic. Random weights: outputs mean nothing.

Every model has RoBERTa's shape where winnow cares: model_type 'roberta', ONNX inputs input_ids and
attention_mask only (no token_type_ids), position ids computed inside the graph as RoBERTa does
(cumsum of the non-pad mask, plus padding_idx = pad_token_id = 1, so the first token gets position 2),
<s> A </s></s> B </s> pairs, and a tokenizer_config.json without model_max_length. The position table has
TABLE rows, so an input of TABLE - 2 tokens is the longest that runs: one more fails in Gather.
(The tokenizer is a small lowercase WordPiece, not RoBERTa's byte-level BPE: other fixtures cover real
tokenizers; these cover the length limit and recovery after a failed run.)

  position-offset-roberta            RobertaForSequenceClassification, config max_position_embeddings = TABLE (honest)
  position-offset-roberta-embedder   RobertaModel (last_hidden_state), same
  fault-roberta-cross-encoder        like position-offset-roberta, but the config claims 514 positions: any input
                                     over TABLE - 2 tokens fails in onnxruntime, as a mis-configured model would
  fault-roberta-embedder             the same for the embedder
  fault-corrupt-onnx                 position-offset-roberta's config and tokenizer with an onnx/model.onnx that is not
                                     an ONNX file: onnxruntime fails to create its session (a failed load)
reference.json of each holds PyTorch fp32 outputs (logits; mean-pooled unit embeddings) for short inputs and
inputs of exactly the usable length, with the token ids fed.
"""
import json, math, os, random, sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'references'))
from truncation import Tokenizer, longest_first  # noqa: E402  (the reference WordPiece tokenizer and LongestFirst)

ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, 'test', 'fixtures', 'models', 'families')
TABLE = 34          # rows of the position table: usable length 34 - 1 - 1 = 32
PAD = 1
HIDDEN, HEADS, FFN, LAYERS = 16, 2, 32, 1
EPS = 1e-5


def vocabulary():
    specials = ['<s>', '<pad>', '</s>', '<unk>', '<mask>']
    letters = [chr(c) for c in range(ord('a'), ord('z') + 1)]
    digits = [str(d) for d in range(10)]
    punct = list('.,;:!?\'"()-/')
    words = ('paris france capital city river rank ranking query passage document model vector browser worker '
             'cat dog fox sun rain memory leak search index token length limit position table offset recovery '
             'after failure the a of and to in is it on for with as was by at from this that an be or').split()
    rest = ['##' + c for c in letters + digits] + ['##s', '##ing', '##ed']
    vocab = []
    for t in specials + letters + digits + punct + words + rest:
        if t not in vocab:
            vocab.append(t)
    return vocab


class Roberta(nn.Module):
    def __init__(self, vocab_size, head):
        super().__init__()
        self.head = head
        self.word = nn.Embedding(vocab_size, HIDDEN, padding_idx=PAD)
        self.pos = nn.Embedding(TABLE, HIDDEN, padding_idx=PAD)
        self.types = nn.Embedding(1, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=EPS)
        self.qkv = nn.ModuleList([nn.Linear(HIDDEN, 3 * HIDDEN) for _ in range(LAYERS)])
        self.out = nn.ModuleList([nn.Linear(HIDDEN, HIDDEN) for _ in range(LAYERS)])
        self.ln1 = nn.ModuleList([nn.LayerNorm(HIDDEN, eps=EPS) for _ in range(LAYERS)])
        self.up = nn.ModuleList([nn.Linear(HIDDEN, FFN) for _ in range(LAYERS)])
        self.down = nn.ModuleList([nn.Linear(FFN, HIDDEN) for _ in range(LAYERS)])
        self.ln2 = nn.ModuleList([nn.LayerNorm(HIDDEN, eps=EPS) for _ in range(LAYERS)])
        if head:  # RobertaClassificationHead: dense + tanh on <s>, then out_proj
            self.dense, self.proj = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, 1)
        for name, p in self.named_parameters():
            if 'ln' not in name:
                nn.init.normal_(p, std=0.4 if p.dim() > 1 else 0.05)

    def forward(self, input_ids, attention_mask):
        B, T = input_ids.shape
        keep = input_ids.ne(PAD).long()
        positions = torch.cumsum(keep, dim=1) * keep + PAD  # RoBERTa: real tokens from PAD + 1
        x = self.ln(self.word(input_ids) + self.pos(positions) + self.types(torch.zeros_like(input_ids)))
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        hd = HIDDEN // HEADS
        for i in range(LAYERS):
            q, k, v = self.qkv[i](x).split(HIDDEN, dim=-1)
            split = lambda t: t.view(B, T, HEADS, hd).transpose(1, 2)
            att = (split(q) @ split(k).transpose(-1, -2) / math.sqrt(hd) + bias).softmax(-1)
            x = self.ln1[i](x + self.out[i]((att @ split(v)).transpose(1, 2).reshape(B, T, HIDDEN)))
            x = self.ln2[i](x + self.down[i](nn.functional.gelu(self.up[i](x))))
        if self.head:
            return self.proj(torch.tanh(self.dense(x[:, 0])))
        return x


def write_tokenizer(out, vocab):
    ids = {t: i for i, t in enumerate(vocab)}
    added = [dict(id=ids[t], content=t, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
             for t in ['<s>', '<pad>', '</s>', '<unk>', '<mask>']]
    tokenizer = {
        'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': added,
        'normalizer': {'type': 'BertNormalizer', 'clean_text': True, 'handle_chinese_chars': True, 'strip_accents': None, 'lowercase': True},
        'pre_tokenizer': {'type': 'BertPreTokenizer'},
        'post_processor': {'type': 'RobertaProcessing', 'sep': ['</s>', ids['</s>']], 'cls': ['<s>', ids['<s>']],
                           'trim_offsets': True, 'add_prefix_space': False},
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
        'model': {'type': 'WordPiece', 'unk_token': '<unk>', 'continuing_subword_prefix': '##', 'max_input_chars_per_word': 100, 'vocab': ids},
    }
    dump(os.path.join(out, 'tokenizer.json'), tokenizer)
    # no model_max_length, like many RoBERTa / XLM-R exports: the config's table is the only limit
    dump(os.path.join(out, 'tokenizer_config.json'), {
        'tokenizer_class': 'RobertaTokenizer', 'bos_token': '<s>', 'eos_token': '</s>', 'sep_token': '</s>', 'cls_token': '<s>',
        'unk_token': '<unk>', 'pad_token': '<pad>', 'mask_token': '<mask>', 'clean_up_tokenization_spaces': True})
    dump(os.path.join(out, 'special_tokens_map.json'), {'bos_token': '<s>', 'eos_token': '</s>', 'sep_token': '</s>', 'cls_token': '<s>',
                                                        'unk_token': '<unk>', 'pad_token': '<pad>', 'mask_token': '<mask>'})
    with open(os.path.join(out, 'vocab.txt'), 'w') as f:
        f.write('\n'.join(vocab) + '\n')


def dump(path, value):
    with open(path, 'w') as f:
        json.dump(value, f, indent=1)
        f.write('\n')


def make(name, head, claimed_positions, vocab, seed):
    out = os.path.join(OUT, name)
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    torch.manual_seed(seed)
    model = Roberta(len(vocab), head).eval()
    write_tokenizer(out, vocab)
    tok = Tokenizer(os.path.join(out, 'vocab.txt'))
    s, e = tok.vocab['<s>'], tok.vocab['</s>']
    rng = random.Random(seed)
    words = [t for t in vocab if t.isalpha() and len(t) > 1]
    text = lambda n: ' '.join(rng.choice(words) for _ in range(n))
    usable = TABLE - PAD - 1
    refs = []
    with torch.no_grad():
        if head:
            budget = usable - 4  # <s> A </s></s> B </s>
            for query, document in [(text(3), text(6)), (text(4), text(budget - 4)), (text(5), text(60))]:
                q, d = tok.ids(query), tok.ids(document)
                kq, kd = longest_first(len(q), len(d), budget)
                ids = [s] + q[:kq] + [e, e] + d[:kd] + [e]
                logit = float(model(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))[0, 0])
                refs.append(dict(query=query, document=document, input_ids=ids, logit=logit))
        else:
            for t in [text(5), text(usable - 2), text(60)]:
                ids = [s] + tok.ids(t)[:usable - 2] + [e]
                h = model(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))[0].mean(0)
                refs.append(dict(text=t, input_ids=ids, embedding=[round(float(x), 7) for x in h / h.norm()]))
        # the table really ends at `usable` tokens: one more fails (PyTorch raises IndexError)
        try:
            model(torch.tensor([[s] + [tok.vocab['a']] * (usable - 1) + [e]]), torch.ones(1, usable + 1, dtype=torch.long))
            sys.exit('a too long input ran')
        except IndexError:
            pass
        dummy = (torch.tensor([refs[0]['input_ids']]), torch.ones(1, len(refs[0]['input_ids']), dtype=torch.long))
    output = 'logits' if head else 'last_hidden_state'
    axes = {'input_ids': {0: 'batch', 1: 'sequence'}, 'attention_mask': {0: 'batch', 1: 'sequence'},
            output: {0: 'batch'} if head else {0: 'batch', 1: 'sequence'}}
    path = os.path.join(out, 'onnx', 'model.onnx')
    torch.onnx.export(model, dummy, path, input_names=['input_ids', 'attention_mask'], output_names=[output],
                      dynamic_axes=axes, opset_version=14, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    config = {
        'architectures': ['RobertaForSequenceClassification' if head else 'RobertaModel'], 'model_type': 'roberta',
        'vocab_size': len(vocab), 'hidden_size': HIDDEN, 'num_hidden_layers': LAYERS, 'num_attention_heads': HEADS,
        'intermediate_size': FFN, 'hidden_act': 'gelu', 'max_position_embeddings': claimed_positions, 'type_vocab_size': 1,
        'layer_norm_eps': EPS, 'pad_token_id': PAD, 'bos_token_id': 0, 'eos_token_id': 2, 'position_embedding_type': 'absolute',
        'torch_dtype': 'float32',
    }
    if head:
        config.update({'id2label': {'0': 'LABEL_0'}, 'label2id': {'LABEL_0': 0}})
    dump(os.path.join(out, 'config.json'), config)
    if not head:
        os.makedirs(os.path.join(out, '1_Pooling'), exist_ok=True)
        dump(os.path.join(out, '1_Pooling', 'config.json'), {'word_embedding_dimension': HIDDEN, 'pooling_mode_mean_tokens': True})
    note = ('random weights, seed %d; PyTorch fp32 outputs; position table of %d rows (usable %d tokens), config claims %d'
            % (seed, TABLE, usable, claimed_positions))
    dump(os.path.join(out, 'reference.json'), dict(note=note, usable_length=usable, table=TABLE, **({'pairs': refs} if head else {'texts': refs})))
    print(name, {f: os.path.getsize(os.path.join(out, 'onnx', f)) for f in os.listdir(os.path.join(out, 'onnx'))})


def main():
    vocab = vocabulary()
    make('position-offset-roberta', True, TABLE, vocab, 11)
    make('position-offset-roberta-embedder', False, TABLE, vocab, 12)
    make('fault-roberta-cross-encoder', True, 514, vocab, 13)
    make('fault-roberta-embedder', False, 514, vocab, 14)
    corrupt = os.path.join(OUT, 'fault-corrupt-onnx')
    os.makedirs(os.path.join(corrupt, 'onnx'), exist_ok=True)
    for f in ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']:
        with open(os.path.join(OUT, 'position-offset-roberta', f)) as src, open(os.path.join(corrupt, f), 'w') as dst:
            dst.write(src.read())
    with open(os.path.join(corrupt, 'onnx', 'model.onnx'), 'wb') as f:
        f.write(b'this is not an ONNX model: onnxruntime cannot create a session from it\n' * 4)


if __name__ == '__main__':
    main()
