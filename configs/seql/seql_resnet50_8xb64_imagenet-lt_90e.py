# Softmax equalization loss (Tan et al., CVPR 2020): tail-class negatives dropped from the
# softmax denominator with probability 0.9.
# ResNet-50 on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe of configs/baseline).
# tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/imagenet_lt.py',
          '../_base_/schedules/imagenet_lt_90e.py', '../_base_/default_runtime_cls.py']
# lambda 4.3e-4 (the survey's ImageNet-LT value: classes with <= 49 of 115,846 images are tail classes)
model = dict(head=dict(loss=dict(
    _delete_=True, type='SoftmaxEQLLoss', lambda_=4.3e-4, ignore_prob=0.9, class_stats={{_base_.class_stats}})))
