# Softmax equalization loss (Tan et al., CVPR 2020): tail-class negatives dropped from the
# softmax denominator with probability 0.9.
# ResNeXt-50 (32x4d) on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe):
# configs/baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py with this method. tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py'
# lambda 4.3e-4 (the survey's ImageNet-LT value: classes with <= 49 of 115,846 images are tail classes)
model = dict(head=dict(loss=dict(
    _delete_=True, type='SoftmaxEQLLoss', lambda_=4.3e-4, ignore_prob=0.9, class_stats={{_base_.class_stats}})))
