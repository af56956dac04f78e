# Balanced Softmax (Ren et al., NeurIPS 2020): cross-entropy on z + log n.
# ResNeXt-50 (32x4d) on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe of
# configs/baseline). tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnext50_lt.py', '../_base_/datasets/imagenet_lt.py',
          '../_base_/schedules/imagenet_lt_90e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(loss=dict(
    _delete_=True, type='BalancedSoftmaxLoss', class_stats={{_base_.class_stats}})))
