# Cosine classifier (normed linear layer of LDAM-DRW / RIDE, logits s * cos(x, w_j), no bias, s = 30) trained with
# softmax cross-entropy: LeNet-5 on Digits-LT (CPU demo, about a minute).
# Everything else is configs/baseline/lenet_1xb32_digits-lt_30e.py.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(type='CosineClsHead', scale=30.0))
