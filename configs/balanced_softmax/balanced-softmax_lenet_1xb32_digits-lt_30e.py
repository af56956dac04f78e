# Balanced Softmax (Ren et al., NeurIPS 2020): cross-entropy on z + log n.
# LeNet-5 on Digits-LT (CPU, about a minute): configs/baseline/lenet_1xb32_digits-lt_30e.py with this method.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='BalancedSoftmaxLoss', class_stats={{_base_.class_stats}})))
