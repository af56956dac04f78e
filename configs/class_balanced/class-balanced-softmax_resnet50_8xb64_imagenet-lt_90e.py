# Class-balanced softmax cross-entropy (Cui et al., CVPR 2019), effective-number weights with
# beta 0.9999, normalised by the batch size as the official code.
# ResNet-50 on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe of configs/baseline).
# tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/imagenet_lt.py',
          '../_base_/schedules/imagenet_lt_90e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(loss=dict(
    _delete_=True, type='ClassBalancedLoss', beta=0.9999, loss_type='softmax', class_stats={{_base_.class_stats}})))
