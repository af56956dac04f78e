# Class-balanced softmax cross-entropy (Cui et al., CVPR 2019), effective-number weights with
# beta 0.9999, normalised by the batch size as the official code.
# LeNet-5 on Digits-LT (CPU, about a minute): configs/baseline/lenet_1xb32_digits-lt_30e.py with this method.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='ClassBalancedLoss', beta=0.9999, loss_type='softmax', class_stats={{_base_.class_stats}})))
