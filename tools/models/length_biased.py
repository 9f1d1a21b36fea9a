#!/usr/bin/python3
"""A cross-encoder with a known length bias, for testing `lengthCorrection` (not a relevance model).

  /usr/bin/python3 tools/models/length_biased.py [OUTDIR]   (default test/fixtures/models/length-biased-cross-encoder)

Its one logit is, for a BERT pair `[CLS] query [SEP] passage [SEP]`:

    logit = SLOPE * ln(passage tokens) + RELEVANT_WEIGHT * (occurrences of the token "relevant" in the passage) + BIAS

so a long passage scores higher than a short one for its length alone, and the exact trend to remove
is SLOPE per unit of ln(tokens). The graph reads input_ids, attention_mask and token_type_ids as a BERT
export does (the passage is the segment with token type 1, less its final [SEP]). The tokenizer files
are those of the tiny BERT fixture (a synthetic WordPiece vocabulary), with model_max_length 512.
reference.json holds pairs and the logits computed by PyTorch from the same formula on the token ids
of a reference WordPiece tokenization (every word of the cases is one vocabulary entry).
Needs Debian's python3-torch and python3-onnx.
"""
import json, math, os, shutil, sys
import onnx
import torch
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
TOKENIZER_FROM = os.path.join(ROOT, 'test', 'fixtures', 'models', 'tiny-random-cross-encoder')
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'test', 'fixtures', 'models', 'length-biased-cross-encoder')

SLOPE = 1.25
RELEVANT_WEIGHT = 4.0
BIAS = -6.0
MAX_LENGTH = 512


def graph(relevant_id):
    ids = helper.make_tensor_value_info('input_ids', TensorProto.INT64, ['batch', 'sequence'])
    mask = helper.make_tensor_value_info('attention_mask', TensorProto.INT64, ['batch', 'sequence'])
    types = helper.make_tensor_value_info('token_type_ids', TensorProto.INT64, ['batch', 'sequence'])
    logits = helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 1])
    const = lambda name, value, dtype=TensorProto.FLOAT: helper.make_tensor(name, dtype, [], [value])
    nodes = [
        helper.make_node('Mul', ['attention_mask', 'token_type_ids'], ['segment_i']),
        helper.make_node('Cast', ['segment_i'], ['segment'], to=TensorProto.FLOAT),
        helper.make_node('ReduceSum', ['segment', 'axis1'], ['segment_len'], keepdims=1),
        helper.make_node('Sub', ['segment_len', 'one'], ['passage_len']),  # less the final [SEP]
        helper.make_node('Max', ['passage_len', 'one'], ['passage_len_1']),
        helper.make_node('Log', ['passage_len_1'], ['log_len']),
        helper.make_node('Mul', ['log_len', 'slope'], ['length_term']),
        helper.make_node('Equal', ['input_ids', 'relevant_id'], ['is_relevant_b']),
        helper.make_node('Cast', ['is_relevant_b'], ['is_relevant'], to=TensorProto.FLOAT),
        helper.make_node('Mul', ['is_relevant', 'segment'], ['relevant_in_passage']),
        helper.make_node('ReduceSum', ['relevant_in_passage', 'axis1'], ['relevant_count'], keepdims=1),
        helper.make_node('Mul', ['relevant_count', 'relevant_weight'], ['relevant_term']),
        helper.make_node('Add', ['length_term', 'relevant_term'], ['sum']),
        helper.make_node('Add', ['sum', 'bias'], ['logits']),
    ]
    inits = [
        helper.make_tensor('axis1', TensorProto.INT64, [1], [1]),
        const('one', 1.0),
        const('slope', SLOPE),
        const('relevant_weight', RELEVANT_WEIGHT),
        const('bias', BIAS),
        const('relevant_id', relevant_id, TensorProto.INT64),
    ]
    g = helper.make_graph(nodes, 'length_biased_cross_encoder', [ids, mask, types], [logits], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid('', 14)], producer_name='winnow tools/models/length_biased.py')
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def reference_logit(query_ids, passage_ids, relevant_id):
    """PyTorch, from the formula, on a [CLS] q [SEP] p [SEP] row."""
    p = torch.tensor(passage_ids, dtype=torch.float64)
    n = torch.tensor(float(max(1, len(passage_ids))), dtype=torch.float64)
    count = (torch.tensor(passage_ids) == relevant_id).sum().to(torch.float64)
    return float(SLOPE * torch.log(n) + RELEVANT_WEIGHT * count + BIAS)


def main():
    os.makedirs(os.path.join(OUT, 'onnx'), exist_ok=True)
    for name in ('tokenizer.json', 'special_tokens_map.json', 'vocab.txt'):
        shutil.copy(os.path.join(TOKENIZER_FROM, name), os.path.join(OUT, name))
    tok_config = json.load(open(os.path.join(TOKENIZER_FROM, 'tokenizer_config.json')))
    tok_config['model_max_length'] = MAX_LENGTH
    json.dump(tok_config, open(os.path.join(OUT, 'tokenizer_config.json'), 'w'), indent=2)
    vocab = open(os.path.join(OUT, 'vocab.txt'), encoding='utf-8').read().split('\n')
    tok2id = {t: i for i, t in enumerate(vocab) if t}
    relevant_id = tok2id['relevant']
    config = {
        'architectures': ['BertForSequenceClassification'],
        'model_type': 'bert',
        'vocab_size': len(tok2id),
        'max_position_embeddings': MAX_LENGTH,
        'type_vocab_size': 2,
        'pad_token_id': 0,
        'id2label': {'0': 'LABEL_0'},
        'label2id': {'LABEL_0': 0},
        'problem_type': 'regression',
        'winnow_fixture': {'slope': SLOPE, 'relevant_weight': RELEVANT_WEIGHT, 'bias': BIAS, 'note': 'a known length bias for tests; not a relevance model'},
    }
    json.dump(config, open(os.path.join(OUT, 'config.json'), 'w'), indent=2)
    onnx.save(graph(relevant_id), os.path.join(OUT, 'onnx', 'model.onnx'))

    # Reference cases: every word is one vocabulary entry, so WordPiece gives one id per word.
    filler = ['the', 'of', 'and', 'to', 'in', 'weather', 'river', 'city', 'rain', 'sun']
    cases = []
    query = 'relevant document search'
    for i, (n, rel) in enumerate([(3, 1), (6, 1), (12, 2), (20, 0), (45, 0), (80, 0), (150, 0), (240, 1), (300, 0), (9, 0)]):
        words = ['relevant'] * rel + [filler[(i + j) % len(filler)] for j in range(n - rel)]
        passage = ' '.join(words)
        q_ids = [tok2id[w] for w in query.split()]
        p_ids = [tok2id[w] for w in passage.split()]
        cases.append({'query': query, 'passage': passage, 'passage_tokens': len(p_ids), 'relevant': rel, 'logit': reference_logit(q_ids, p_ids, relevant_id)})
    json.dump({'formula': {'slope': SLOPE, 'relevant_weight': RELEVANT_WEIGHT, 'bias': BIAS}, 'cases': cases}, open(os.path.join(OUT, 'reference.json'), 'w'), indent=1)
    print(f'wrote {OUT}')


if __name__ == '__main__':
    main()
