# Softmax focal loss in the long-tail survey's form (gamma 3.0, factor detached) on LeNet-5, Digits-LT (CPU, about a
# minute): configs/baseline/lenet_1xb32_digits-lt_30e.py with this loss. python tools/data/make_demo_data.py
# digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='SoftmaxFocalLoss', class_stats={{_base_.class_stats}}, gamma=3.0, detach_pt=True)))
