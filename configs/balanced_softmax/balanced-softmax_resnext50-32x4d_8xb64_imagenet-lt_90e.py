# Balanced Softmax (Ren et al., NeurIPS 2020): cross-entropy on z + log n.
# ResNeXt-50 (32x4d) on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe):
# configs/baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py with this method. tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='BalancedSoftmaxLoss', class_stats={{_base_.class_stats}})))
