# Weighted Softmax (the long-tail survey's baseline, Zhang et al., TPAMI 2023): cross-entropy with class weights
# 1 + ln(n_max / n_c), divided by the sum of the batch's weights. LeNet-5 on Digits-LT (CPU, about a minute):
# configs/baseline/lenet_1xb32_digits-lt_30e.py with this loss. python tools/data/make_demo_data.py digits_lt
# --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='WeightedSoftmaxLoss', class_stats={{_base_.class_stats}})))
