# Softmax equalization loss (Tan et al., CVPR 2020): tail-class negatives dropped from the
# softmax denominator with probability 0.9.
# LeNet-5 on Digits-LT (CPU, about a minute): configs/baseline/lenet_1xb32_digits-lt_30e.py with this method.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
# lambda 0.05: the few-shot classes (< 20 images) of Digits-LT are the tail classes
model = dict(head=dict(loss=dict(
    _delete_=True, type='SoftmaxEQLLoss', lambda_=0.05, ignore_prob=0.9, class_stats={{_base_.class_stats}})))
